/*
 * lunatik-wasm's public API.
 */
import { Kernel } from './sandbox/kernel.js';
import { errno } from './sandbox/errno.js';
import type { UserCode, UserResult } from './sandbox/user-copy.js';

export { Kernel, type CallStats, type ExecResult, type ShutdownReport } from './sandbox/kernel.js';
export type { LunatikModule, ModuleContext, UserdataType, KernelServices, LuaFunction } from './bindings/module.js';
export type { Binding, Lua } from './bindings/lua.js';
export type { ModuleInfo } from './sandbox/modules.js';
export type { LeakRecord, MemInfo, SlabInfo } from './memory/index.js';
export { errno, strerror, errnoName, type ErrnoName } from './sandbox/errno.js';
export type { BootOptions } from './sandbox/options.js';
export { formatRecord, type LogRecord } from './sandbox/klog.js';
export { ImageMismatchError, setCompileStrategy, imageCompileInfo, type CompileStrategy, type CompileInfo } from '../wasm/image.js';
export {
  KernelThread, type ThreadOptions, type SubmitOptions, type ThreadShutdownReport, type ThreadInfo,
} from './sandbox/thread/kernel-thread.js';
export { KernelPool, type PoolOptions, type PoolExecOptions, type PoolInfo } from './sandbox/pool/kernel-pool.js';

let defaultKernel: Kernel | undefined;

/** The process-wide kernel behind the module-level sysLua, booted on first use. */
export function defaultKernelInstance(): Kernel {
  if (defaultKernel === undefined || defaultKernel.isShutdown) defaultKernel = Kernel.boot();
  return defaultKernel;
}

const ENOMEM = errno.ENOMEM;

/** sysLua on the default kernel (booted lazily with default options). Never throws. */
export function sysLua(code: UserCode, codeSz: number, result: UserResult, resultSz: number): number {
  try {
    return defaultKernelInstance().sysLua(code, codeSz, result, resultSz);
  } catch {
    // Booting the default kernel ran out of host JS stack (Kernel.sysLua itself never throws).
    return -ENOMEM;
  }
}
