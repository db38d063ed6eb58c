/*
 * Issue 14 measured: resolutions per second of a 1 MiB read, for every layout, three ways
 * in the same process and run, interleaved:
 *   - the script through LayoutEngine.resolve (kernel.call, values across the bridge, the
 *     answer checked), on the engine's default kernel (8 MiB pool, instruction budget);
 *   - the TypeScript fixed mapping producing the same extent objects (the baseline);
 *   - the script through sysLua with (offset, length) formatted into the source and the
 *     answer parsed from text (formatted.ts), as one must without the value bridge.
 * Every request is at a new offset, so the formatted path compiles a new chunk each time,
 * as it would in service.
 *
 *   node dist/bench/layouts/index.js [--quick]     (writes bench/results/layouts.md and .json)
 */
import { mkdtempSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Kernel } from '../../src/index.js';
import { DEFAULT_BOOT, LayoutEngine } from '../../examples/layouts/engine.js';
import { FIXED } from '../../examples/layouts/fixed/index.js';
import { FormattedLayout } from '../../examples/layouts/formatted.js';
import { LAYOUTS, layoutScript, type LayoutName } from '../../examples/layouts/scripts.js';
import type { Device, Extent, LayoutParams } from '../../examples/layouts/types.js';
import { measure } from '../lib/measure.js';
import { us, writeResults, type Row } from '../lib/report.js';

const KiB = 1024;
const MiB = 1024 * KiB;
const FILE = 2 ** 40;

const table = (n: number): Device[] => Array.from({ length: n }, (_, id) => ({ id, size: FILE }));

/** Each layout as the bench sets it up; the stripe is the 4-device, 4-extent case. */
const SETUPS: Record<LayoutName, { label: string; params: LayoutParams; devices: Device[] }> = {
  'file-layout': { label: 'NFSv4.1 file layout, 4 devices, 256 KiB unit (4 extents)', params: { stripeUnit: 256 * KiB, stripeIndices: [0, 1, 2, 3], dense: true }, devices: table(4) },
  'flex-files': { label: 'flex-files, 2 mirrors of 2 devices, 256 KiB unit (2 x 4 extents)', params: { stripeUnit: 256 * KiB, mirrors: [[0, 1], [2, 3]] }, devices: table(4) },
  raid5: { label: 'rotating parity, 5 devices, 256 KiB unit (4 data + 1 parity)', params: { stripeUnit: 256 * KiB }, devices: table(5) },
  crush: { label: 'straw2 over 16 devices, 4 MiB objects, 2 replicas (2 x 1 extent)', params: { objectSize: 4 * MiB, fileId: 7, replicas: 2 }, devices: table(16) },
  ring: { label: 'hash ring, 16 devices x 64 vnodes, 4 MiB objects, 2 replicas', params: { objectSize: 4 * MiB, fileId: 7, vnodes: 64, replicas: 2 }, devices: table(16) },
};

/** A fixed mapping's flat lists as extent objects, unchecked: trusted code needs no checks. */
function extents(flat: number[]): Extent[] {
  const out: Extent[] = [];
  for (let i = 0; i < flat.length; i += 3) out.push({ device: flat[i]!, deviceOffset: flat[i + 1]!, length: flat[i + 2]! });
  return out;
}

const perSecond = (seconds: number) => `${Math.round(1 / seconds).toLocaleString('en')}/s`;

export function run(options: { quick?: boolean; dir?: string | undefined } = {}): Row[] {
  const rounds = options.quick ? 1 : 5;
  const maxTime = options.quick ? 0.02 : 0.5;
  const load = loadavg()[0]!;
  const engine = LayoutEngine.boot();
  const unbudgeted = LayoutEngine.boot({ limits: { instructions: undefined } });
  const formattedKernel = Kernel.boot(DEFAULT_BOOT);
  // A new 1 MiB-aligned offset for every call, in every case alike.
  let next = 0;
  const offset = () => (next = (next + 7 * MiB) % FILE);
  const cases = LAYOUTS.flatMap((layout) => {
    const { params, devices } = SETUPS[layout];
    const spec = { script: layoutScript(layout), params, devices };
    if (engine.setLayout(layout, spec).rc !== 0 || unbudgeted.setLayout(layout, spec).rc !== 0) throw new Error(`cannot set up ${layout}`);
    const fixed = FIXED[layout](params, devices);
    const formatted = FormattedLayout.install(formattedKernel, spec.script, params, devices);
    const check = (r: { rc: number; error?: string }) => {
      if (r.rc < 0) throw new Error(`${layout}: ${r.error}`);
    };
    return [
      { name: `${layout}:engine`, fn: () => check(engine.resolve(layout, offset(), MiB)) },
      { name: `${layout}:fixed`, fn: () => fixed.resolve(offset(), MiB).map(extents) },
      { name: `${layout}:formatted`, fn: () => check(formatted.resolve(offset(), MiB)) },
      ...(layout === 'file-layout' ? [{ name: `${layout}:unbudgeted`, fn: () => check(unbudgeted.resolve(layout, offset(), MiB)) }] : []),
    ];
  });
  for (const c of cases) c.fn();
  const times = measure(cases, rounds, maxTime);
  const t = (name: string) => times.get(name)!;

  const rows: Row[] = [];
  for (const layout of LAYOUTS) {
    const engineTime = t(`${layout}:engine`), fixedTime = t(`${layout}:fixed`), formattedTime = t(`${layout}:formatted`);
    const stripe = layout === 'file-layout';
    rows.push({
      what: `${SETUPS[layout].label}: script via LayoutEngine (kernel.call) vs TS fixed mapping, time per resolve`,
      value: `${us(engineTime)} (${perSecond(engineTime)})`,
      baseline: `${us(fixedTime)} (${perSecond(fixedTime)})`,
      ratio: engineTime / fixedTime,
      ...(stripe ? { target: '≥ 250,000/s and ≤ 5x', ok: 1 / engineTime >= 250_000 && engineTime / fixedTime <= 5 } : { target: '' }),
    });
    rows.push({
      what: '  same script via sysLua, arguments formatted into the source, vs LayoutEngine',
      value: `${us(formattedTime)} (${perSecond(formattedTime)})`,
      baseline: `${us(engineTime)} (${perSecond(engineTime)})`,
      ratio: formattedTime / engineTime,
      target: '',
    });
    if (stripe) {
      const free = t(`${layout}:unbudgeted`);
      rows.push({ what: '  same script via LayoutEngine on a kernel without instruction budget, vs TS fixed mapping', value: `${us(free)} (${perSecond(free)})`, baseline: `${us(fixedTime)} (${perSecond(fixedTime)})`, ratio: free / fixedTime, target: '' });
    }
  }
  const notes = [
    'Each row: median time per resolution of a 1 MiB read at a new 1 MiB-aligned offset (every call a new request); resolutions per second in parentheses. Ratios are time over baseline time: above 1 is slower.',
    'LayoutEngine includes the call through the value bridge and the check of every answer (answer.ts); the TS fixed mapping only builds the same extent objects.',
    `The machine was shared with other builds and benchmarks (load average ${load.toFixed(2)} when the suite started, 2 cores): absolute figures are noisy; ratios come from interleaved rounds of the same run.`,
  ];
  writeResults('layouts', 'Scripted storage layouts (issue 14)', rows, notes, options.dir);
  engine.shutdown();
  unbudgeted.shutdown();
  formattedKernel.shutdown();
  return rows;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const quick = process.argv.includes('--quick');
  run({ quick, dir: quick ? mkdtempSync(join(tmpdir(), 'lunatik-bench-')) : undefined });
}
