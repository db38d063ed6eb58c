/*
 * The instruction budget's price: the same scripts on a kernel with a budget no run
 * reaches plus a soft time limit (fuel in slices, a clock check at each) and on one with
 * no budget (`instructions: Infinity`), alternating, in the same process.
 */
import { Kernel } from '../../src/index.js';
import { median } from '../compare/stats.js';
import { timeRuns } from '../lib/measure.js';
import { workloadSource } from '../workloads/index.js';

export const FIB30 = 'local function fib(n) if n < 2 then return n end return fib(n - 1) + fib(n - 2) end return fib(30)';

export interface BudgetCost {
  name: string;
  /** Median seconds per run. */
  off: number;
  on: number;
}

export function measureBudget(runs: number, quick: boolean): BudgetCost[] {
  const scripts: Array<[string, string]> = [
    [quick ? 'fib(20)' : 'fib(30)', quick ? FIB30.replace('fib(30)', 'fib(20)') : FIB30],
    [quick ? 'binary-trees(8)' : 'binary-trees(14)', workloadSource('binary-trees', quick ? 8 : 14)],
  ];
  const off = Kernel.boot({ limits: { instructions: Infinity } });
  const on = Kernel.boot({ limits: { instructions: Number.MAX_SAFE_INTEGER, timeMs: 2 ** 31 } });
  try {
    return scripts.map(([name, code]) => {
      const run = (k: Kernel) => () => {
        const r = k.exec(code);
        if (r.rc < 0) throw new Error(`${name}: ${r.error}`);
      };
      // One warm-up each (the first run of a process may still be on baseline code).
      run(off)();
      run(on)();
      const offTimes: number[] = [];
      const onTimes: number[] = [];
      for (let i = 0; i < runs; i++) {
        offTimes.push(timeRuns(run(off), 1));
        onTimes.push(timeRuns(run(on), 1));
      }
      return { name, off: median(offTimes), on: median(onTimes) };
    });
  } finally {
    off.shutdown();
    on.shutdown();
  }
}
