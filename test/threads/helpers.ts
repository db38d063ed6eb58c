// Shared helpers of the thread tests: counting live threads, waiting for a condition
// without timing assumptions, and the small boot options that keep many workers cheap.
import { readFileSync } from 'node:fs';
import { liveWorkers } from '../../src/sandbox/thread/incarnation.js';

export { liveWorkers };

/** A small pool per kernel: tests start many workers. */
export const SMALL = { memory: { limit: 8 * 1024 * 1024 } } as const;

/** OS threads of this process (Linux), or -1 where /proc is missing. */
export function osThreads(): number {
  try {
    return Number(/Threads:\s+(\d+)/.exec(readFileSync('/proc/self/status', 'utf8'))![1]);
  } catch {
    return -1;
  }
}

/** Polls `cond` on the event loop until it holds; throws after `timeoutMs` (a generous bound, not a timing assertion). */
export async function waitFor(cond: () => boolean, timeoutMs = 20_000, what = 'condition'): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** Lets pending 'exit' events and messages be delivered. */
export const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

export const decoder = new TextDecoder();

interface Executes {
  exec(code: string): { rc: number; value?: string; error?: string };
}

/**
 * exec, tried again while it returns -ETIME (at most `tries` times): on a loaded machine a
 * call with a deliberately short deadline may miss it; the outcome checked is its value.
 */
export function execSettled(target: Executes, code: string, tries = 20): { rc: number; value?: string; error?: string } {
  let r = target.exec(code);
  for (let i = 1; i < tries && r.rc === -62; i++) r = target.exec(code);
  return r;
}
