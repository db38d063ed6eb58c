/*
 * `npm run layouts`: the simulation (simulate.ts) through a LayoutEngine per layout and
 * device table, every I/O resolved by the layout script in the kernel; writes the picture
 * to examples/layouts/layouts.svg and the figures to examples/layouts/layouts.json.
 *
 *   node dist/examples/layouts/run.js [--ios N] [--out DIR]     (default: 1,000,000 I/Os)
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { LayoutEngine } from './engine.js';
import { simulate, type SimulationResult } from './simulate.js';
import { renderSvg } from './svg.js';

export const EXAMPLE_DIR = fileURLToPath(new URL('../../../examples/layouts/', import.meta.url));

/** Runs the simulation with `ios` I/Os and writes layouts.svg and layouts.json into `dir`. */
export function runSimulation(ios: number, dir = EXAMPLE_DIR): SimulationResult {
  const engines: LayoutEngine[] = [];
  try {
    const result = simulate({ ios }, (spec, layout) => {
      const engine = LayoutEngine.boot();
      engines.push(engine);
      const rc = engine.setLayout(layout, spec);
      if (rc.rc < 0) throw new Error(`${layout}: ${rc.error}`);
      return (offset, length) => engine.resolve(layout, offset, length);
    });
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'layouts.svg'), renderSvg(result));
    writeFileSync(join(dir, 'layouts.json'), `${JSON.stringify(result, null, 2)}\n`);
    return result;
  } finally {
    for (const e of engines) e.shutdown();
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const { values } = parseArgs({ options: { ios: { type: 'string', default: '1000000' }, out: { type: 'string' } } });
  const ios = Number(values.ios);
  if (!Number.isSafeInteger(ios) || ios < 1) {
    console.error(`--ios must be a positive integer, got ${values.ios}`);
    process.exitCode = 2;
  } else {
    const started = performance.now();
    const r = runSimulation(ios, values.out);
    for (const l of r.layouts) {
      const mean = l.bytes.reduce((a, b) => a + b, 0) / l.bytes.length;
      console.log(`${l.label.padEnd(36)} max/mean ${(Math.max(...l.bytes) / mean).toFixed(3)}  moved ${(l.moved * 100).toFixed(1)} %`);
    }
    console.log(`${ios} I/Os x ${r.layouts.length} layouts x 2 device tables in ${((performance.now() - started) / 1000).toFixed(1)} s; wrote ${join(values.out ?? EXAMPLE_DIR, 'layouts.svg')}`);
  }
}
