/*
 * What a deadline kill costs: a call that hits a short deadline, then the first call on
 * the replacement: the standby worker, booted in the background before each kill (a host
 * that kills faster than a worker boots waits for the boot instead). Also the cost of
 * spawning a thread.
 */
import { KernelThread } from '../../src/index.js';
import { median } from '../compare/stats.js';

export interface KillCost {
  /** Median seconds to spawn a thread (worker start, imports, Kernel.boot). */
  spawn: number;
  /** Median seconds from a killing call's start to the replacement's first answer, minus the deadline. */
  replace: number;
  deadlineMs: number;
}

export async function measureKillCost(kills: number): Promise<KillCost> {
  const spawns: number[] = [];
  for (let i = 0; i < 3; i++) {
    const t = performance.now();
    const thread = KernelThread.spawn();
    spawns.push((performance.now() - t) / 1000);
    await thread.close();
  }
  const deadlineMs = 5;
  const thread = KernelThread.spawn({ deadlineMs });
  const replace: number[] = [];
  try {
    for (let i = 0; i < kills; i++) {
      for (const until = Date.now() + 20_000; !thread.info().standby && Date.now() < until;) await new Promise((r) => setTimeout(r, 5));
      const t = performance.now();
      const killed = thread.exec('while true do end');
      const next = thread.exec('return 1');
      if (killed.rc >= 0 || next.value !== '1') continue; // a loaded machine can miss even the second call's deadline
      replace.push((performance.now() - t - deadlineMs) / 1000);
      await new Promise((r) => setImmediate(r));
    }
  } finally {
    await thread.close();
  }
  return { spawn: median(spawns), replace: median(replace), deadlineMs };
}
