/*
 * A KernelPool worker, loaded by piscina in each of its threads: boots a Kernel with the
 * pool's options (modules named, as for a KernelThread) and runs each task with exec.
 * The default export is a promise of the handler (piscina awaits it), so the kernel boots
 * once per worker, before its first task.
 */
import { workerData } from 'node:worker_threads';
import { adoptImage } from '../../../wasm/image.js';
import { Kernel, type ExecResult } from '../kernel.js';
import type { ValueResult } from '../values/value-calls.js';
import { loadModules } from '../thread/options.js';
import { epochNow } from '../thread/protocol.js';

export interface PoolWorkerData {
  image: WebAssembly.Module;
  boot: object;
  modules: readonly string[] | undefined;
}

export interface PoolTask {
  code: Uint8Array;
  /** The chunk name (exec, eval) or the function's name (call). */
  name: string | undefined;
  /** Kernel.exec when absent. */
  op?: 'eval' | 'call';
  args?: readonly unknown[] | undefined;
  strings?: 'text' | 'bytes' | undefined;
  /** 16 shared bytes: Int32 [0] = 1 once the task starts, Float64 at byte 8 = its start (epoch ms). */
  started: SharedArrayBuffer;
}

async function boot(): Promise<(task: PoolTask) => ExecResult | ValueResult> {
  const data = workerData as PoolWorkerData;
  adoptImage(data.image);
  const kernel = Kernel.boot({ ...data.boot, modules: await loadModules(data.modules) });
  kernel.exec('return'); // a first call's one-time costs belong to the boot, not to a task's deadline
  return (task) => {
    new Float64Array(task.started, 8, 1)[0] = epochNow();
    const flag = new Int32Array(task.started, 0, 1);
    Atomics.store(flag, 0, 1);
    Atomics.notify(flag, 0);
    const strings = task.strings ?? 'text';
    if (task.op === 'eval') return kernel.eval(task.code, task.args, task.name === undefined ? { strings } : { strings, name: task.name });
    if (task.op === 'call') return kernel.call(task.name ?? '', task.args, { strings });
    return kernel.exec(task.code, task.name === undefined ? {} : { name: task.name });
  };
}

export default boot();
