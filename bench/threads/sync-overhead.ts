/*
 * What a kernel thread adds to a synchronous call: sysLua through the thread (shared
 * memory in, Atomics round trip, snprintf out) against the same call on an in-thread
 * kernel, interleaved in the same run.
 */
import { Kernel, KernelThread } from '../../src/index.js';
import { measure } from '../lib/measure.js';

const TINY = 'return type({ 123 })';

export interface SyncOverhead {
  /** Seconds per call. */
  thread: number;
  kernel: number;
  threadExec: number;
  kernelExec: number;
}

export function measureSyncOverhead(rounds: number, maxTime: number): SyncOverhead {
  const kernel = Kernel.boot();
  const thread = KernelThread.spawn({ deadlineMs: 60_000 });
  const out = new Uint8Array(64);
  try {
    const times = measure([
      { name: 'thread', fn: () => thread.sysLua(TINY, TINY.length, out, out.length) },
      { name: 'kernel', fn: () => kernel.sysLua(TINY, TINY.length, out, out.length) },
      { name: 'thread-exec', fn: () => thread.exec(TINY) },
      { name: 'kernel-exec', fn: () => kernel.exec(TINY) },
    ], rounds, maxTime);
    return {
      thread: times.get('thread')!,
      kernel: times.get('kernel')!,
      threadExec: times.get('thread-exec')!,
      kernelExec: times.get('kernel-exec')!,
    };
  } finally {
    kernel.shutdown();
    void thread.close();
  }
}
