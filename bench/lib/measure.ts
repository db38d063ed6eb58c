/*
 * benchmark.js, reduced to what our suites need: the median time per operation of each
 * case, cases interleaved round by round so a noisy neighbour hurts them alike.
 */
import Benchmark from 'benchmark';
import { median } from '../compare/stats.js';

export interface Case {
  name: string;
  fn: () => void;
}

/** Median seconds per operation of each case, over `rounds` interleaved benchmark.js runs. */
export function measure(cases: readonly Case[], rounds = 3, maxTime = 0.5): Map<string, number> {
  const samples = new Map<string, number[]>(cases.map((c) => [c.name, []]));
  for (let round = 0; round < rounds; round++) {
    for (const c of cases) {
      const bench = new Benchmark(c.name, c.fn, { maxTime, minSamples: 5 });
      bench.run({ async: false });
      if (bench.error) throw bench.error;
      samples.get(c.name)!.push(median(bench.stats.sample));
    }
  }
  return new Map([...samples].map(([name, s]) => [name, median(s)]));
}

/** Median seconds of `fn` over `runs` single runs (for work too long for benchmark.js's loop). */
export function timeRuns(fn: () => void, runs: number): number {
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    fn();
    times.push((performance.now() - t) / 1000);
  }
  return median(times);
}
