/*
 * `npm run bench`: every suite, one after the other, each printing its table and writing
 * it under bench/results/. `--quick` runs tiny versions (what CI exercises) and writes
 * to a temporary folder instead; `--only kernel,compare` picks suites.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { run as runBindings } from './bindings/index.js';
import { run as runKernel } from './kernel/index.js';
import { run as runThreads } from './threads/index.js';
import { run as runValues } from './values/index.js';
import { run as runDensity } from './density/index.js';
import { run as runLayouts } from './layouts/index.js';
import { compare, parseCompareArgs } from './compare/run.js';
import { updateReadme } from './compare/readme.js';

/** The engine comparison (issue 6), then the README's performance section from its results. */
async function runCompare(quick: boolean, dir: string | undefined): Promise<void> {
  const o = parseCompareArgs(quick ? ['--quick', ...(dir === undefined ? [] : ['--out', dir])] : []);
  await compare(o);
  // A quick run's timings mean nothing: the README keeps the last real results.
  if (!quick) updateReadme(o.outDir);
}

export const SUITES = {
  kernel: (quick: boolean, dir: string | undefined) => runKernel({ quick, dir }),
  bindings: (quick: boolean, dir: string | undefined) => runBindings({ quick, dir }),
  threads: (quick: boolean, dir: string | undefined) => runThreads({ quick, dir }),
  values: (quick: boolean, dir: string | undefined) => runValues({ quick, dir }),
  density: (quick: boolean, dir: string | undefined) => runDensity({ quick, dir }),
  layouts: (quick: boolean, dir: string | undefined) => runLayouts({ quick, dir }),
  // Last: it runs every engine in fresh processes for several minutes.
  compare: runCompare,
} as const;

export type SuiteName = keyof typeof SUITES;

export async function runSuites(names: readonly SuiteName[], quick: boolean): Promise<void> {
  const dir = quick ? mkdtempSync(join(tmpdir(), 'lunatik-bench-')) : undefined;
  for (const name of names) await SUITES[name](quick, dir);
}

const { values } = parseArgs({
  options: { quick: { type: 'boolean', default: false }, only: { type: 'string' } },
});
const names = (values.only?.split(',') ?? Object.keys(SUITES)) as SuiteName[];
const unknown = names.filter((n) => !(n in SUITES));
if (unknown.length > 0) {
  console.error(`unknown suite(s): ${unknown.join(', ')} (known: ${Object.keys(SUITES).join(', ')})`);
  process.exitCode = 2;
} else {
  await runSuites(names, values.quick);
}
