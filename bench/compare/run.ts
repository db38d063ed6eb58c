// The engine comparison: node dist/bench/compare/run.js [--runs N] [--quick]
//   [--engines a,b] [--workloads x,y] [--out DIR]
// Every (engine, workload) run happens in a fresh process; within each repetition the
// engines take turns (starting engine rotated per repetition) so drift in the machine's
// speed spreads over all of them. Writes compare.md, compare.json and compare.svg.
// `npm run bench` runs it as its `compare` suite (bench/run.ts), then updates the README.
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { DEFAULT_ENGINES, ENGINES, type EngineName, isEngine } from '../engines/index.js';
import { LUA_BINARY } from '../engines/native.js';
import { QUICK_SCALE, WORKLOADS, type WorkloadName, isWorkload } from '../workloads/index.js';
import { measure } from './measure.js';
import type { Outcome } from './outcome.js';
import { type RawOutcomes, type Report, summarize } from './report.js';
import { renderMarkdown } from './report-md.js';
import { renderSvg } from './report-svg.js';
import { measureStartup } from './startup.js';

export interface CompareOptions {
  runs: number;
  quick: boolean;
  engines: EngineName[];
  workloads: WorkloadName[];
  outDir: string;
  log: (line: string) => void;
}

export const RESULTS_DIR = fileURLToPath(new URL('../../../bench/results/', import.meta.url));

export const USAGE = 'usage: node dist/bench/compare/run.js [--runs N] [--quick] [--engines a,b] [--workloads x,y] [--out DIR]';

function list<T extends string>(value: string, what: string, known: readonly T[], ok: (s: string) => s is T): T[] {
  return value.split(',').map((item) => {
    if (!ok(item)) throw new Error(`unknown ${what} ${item} (known: ${known.join(', ')})`);
    return item;
  });
}

export function parseCompareArgs(argv: string[]): CompareOptions {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    allowPositionals: false,
    options: {
      runs: { type: 'string' },
      quick: { type: 'boolean', default: false },
      engines: { type: 'string' },
      workloads: { type: 'string' },
      out: { type: 'string' },
    },
  });
  const quick = values.quick ?? false;
  let runs = 5;
  if (values.runs !== undefined) {
    runs = Number(values.runs);
    if (!Number.isSafeInteger(runs) || runs < 1) throw new Error('--runs must be a positive integer');
  } else if (quick) {
    runs = 1;
  }
  return {
    runs,
    quick,
    engines: values.engines === undefined ? [...DEFAULT_ENGINES] : list(values.engines, 'engine', ENGINES, isEngine),
    workloads: values.workloads === undefined ? [...WORKLOADS] : list(values.workloads, 'workload', WORKLOADS, isWorkload),
    // A quick run (CI) checks that everything runs and agrees; its timings mean nothing, so it
    // must not overwrite the real results unless asked to.
    outDir: values.out ?? (quick ? join(tmpdir(), 'lunatik-bench-quick') : RESULTS_DIR),
    log: (line) => process.stderr.write(line + '\n'),
  };
}

function luaVersion(): string | undefined {
  const r = spawnSync(LUA_BINARY, ['-v'], { encoding: 'utf8' });
  return r.status === 0 ? (r.stdout || r.stderr).trim().split(/\s{2,}|\n/)[0] : undefined;
}

export async function runComparison(o: CompareOptions): Promise<Report> {
  const raw: RawOutcomes = new Map(o.engines.map((e) => [e, new Map()]));
  const unavailable = new Map<EngineName, string>();
  for (let rep = 0; rep < o.runs; rep++) {
    for (const w of o.workloads) {
      const scale = o.quick ? QUICK_SCALE[w] : undefined;
      for (let k = 0; k < o.engines.length; k++) {
        const e = o.engines[(k + rep) % o.engines.length]!;
        if (unavailable.has(e)) continue;
        const outcome: Outcome = await measure(e, w, scale);
        if (outcome.status === 'unavailable') {
          unavailable.set(e, outcome.reason);
          o.log(`${e}: unavailable (${outcome.reason})`);
          continue;
        }
        const list = raw.get(e)!.get(w) ?? [];
        list.push(outcome);
        raw.get(e)!.set(w, list);
        o.log(`run ${rep + 1}/${o.runs} ${w} ${e}: ` +
          (outcome.status === 'ok'
            ? `${outcome.ms.toFixed(1)} ms${outcome.cpuMs === undefined ? '' : ` (CPU ${outcome.cpuMs.toFixed(1)} ms)`} -> ${outcome.result}`
            : `ERROR ${outcome.error.split('\n')[0]}`));
      }
    }
  }
  o.log('measuring process start-up');
  const startupRuns = o.quick ? 2 : 10;
  const startup = measureStartup(startupRuns);
  const lua = luaVersion();
  return {
    generated: new Date().toISOString(),
    machine: { cpu: cpus()[0]?.model ?? 'unknown', cores: cpus().length, node: process.version, ...(lua ? { lua } : {}) },
    runs: o.runs,
    quick: o.quick,
    ...summarize(raw, o.engines, o.workloads, unavailable),
    startup,
    startupRuns,
  };
}

export function writeReport(r: Report, outDir: string): string[] {
  mkdirSync(outDir, { recursive: true });
  const files = {
    'compare.json': JSON.stringify(r, null, 2) + '\n',
    'compare.md': renderMarkdown(r),
    'compare.svg': renderSvg(r),
  };
  return Object.entries(files).map(([name, text]) => {
    const path = join(outDir, name);
    writeFileSync(path, text);
    return path;
  });
}

/** Problems that should fail a CI run: wrong or unstable results, script errors. */
export function problems(r: Report): string[] {
  return r.notes.filter((n) => /^(MISMATCH|UNSTABLE|ERROR) /.test(n));
}

/** Runs the comparison, writes its files and prints its markdown; the report is returned. */
export async function compare(o: CompareOptions): Promise<Report> {
  const report = await runComparison(o);
  for (const path of writeReport(report, o.outDir)) o.log(`wrote ${path}`);
  process.stdout.write(renderMarkdown(report));
  const bad = problems(report);
  if (bad.length) {
    o.log(`problems:\n${bad.join('\n')}`);
    process.exitCode = 1;
  }
  return report;
}

async function main(): Promise<void> {
  let o: CompareOptions;
  try {
    o = parseCompareArgs(process.argv.slice(2));
  } catch (e) {
    process.stderr.write(`${e instanceof Error ? e.message : String(e)}\n${USAGE}\n`);
    process.exitCode = 2;
    return;
  }
  await compare(o);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await main();
