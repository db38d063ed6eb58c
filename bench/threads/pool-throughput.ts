/*
 * Pool throughput on CPU-bound work: the same batch of tasks through a 1-thread and a
 * 2-thread pool, alternating, several rounds; the figure is the median of the per-round
 * ratios (the machine is shared: a round where a neighbour stole a core says little).
 */
import { KernelPool } from '../../src/index.js';
import { median } from '../compare/stats.js';

export interface PoolThroughput {
  tasks: number;
  /** Median seconds per batch. */
  one: number;
  two: number;
  /** Median of the rounds' one/two ratios. */
  speedup: number;
  rounds: number[];
}

const task = (n: number, i: number): string =>
  `local function fib(n) if n < 2 then return n end return fib(n - 1) + fib(n - 2) end return "${i}:" .. fib(${n})`;

async function batch(pool: KernelPool, tasks: number, n: number): Promise<number> {
  const t = performance.now();
  const results = await Promise.all(Array.from({ length: tasks }, (_, i) => pool.exec(task(n, i))));
  const elapsed = (performance.now() - t) / 1000;
  results.forEach((r, i) => {
    if (r.rc < 0 || !r.value!.startsWith(`${i}:`)) throw new Error(`task ${i}: ${JSON.stringify(r)}`);
  });
  return elapsed;
}

export async function measurePoolThroughput(rounds: number, quick: boolean): Promise<PoolThroughput> {
  const tasks = quick ? 4 : 16;
  const n = quick ? 18 : 27;
  const one = KernelPool.create({ threads: 1, deadlineMs: 600_000 });
  const two = KernelPool.create({ threads: 2, deadlineMs: 600_000 });
  try {
    // Warm-up: every worker booted and has run the script once.
    await batch(one, 2, n);
    await batch(two, 4, n);
    const ones: number[] = [];
    const twos: number[] = [];
    const ratios: number[] = [];
    for (let r = 0; r < rounds; r++) {
      const a = await batch(one, tasks, n);
      const b = await batch(two, tasks, n);
      ones.push(a);
      twos.push(b);
      ratios.push(a / b);
    }
    return { tasks, one: median(ones), two: median(twos), speedup: median(ratios), rounds: ratios };
  } finally {
    await Promise.all([one.close(), two.close()]);
  }
}
