// lunatik-wasm kernel thread: the kernel lives in a worker, exec is a synchronous round trip.
import { type Adapter, Unavailable, cpuSince } from './types.js';
import { create, execute, loadLunatik } from './lunatik-api.js';

// A deadline no workload reaches, even on a slow machine: the thread must not cut a run.
const DEADLINE_MS = 10 * 60 * 1000;

export const run: Adapter = async (source) => {
  const { KernelThread } = await loadLunatik();
  if (!KernelThread || typeof KernelThread.spawn !== 'function') {
    throw new Unavailable('KernelThread.spawn is not exported');
  }
  const t0 = performance.now();
  const thread = await create('KernelThread.spawn', () => KernelThread.spawn({ deadlineMs: DEADLINE_MS, limits: { instructions: Infinity } }));
  const createMs = performance.now() - t0;
  try {
    const c1 = process.cpuUsage();
    const t1 = performance.now();
    const result = await execute(thread, source);
    const ms = performance.now() - t1;
    return { result, ms, cpuMs: cpuSince(c1), createMs };
  } finally {
    await thread.close();
  }
};
