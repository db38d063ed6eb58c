/*
 * Options of a kernel thread (and of a pool's kernels): every serializable boot option,
 * modules named instead of given, and the thread's own deadline and transfer sizes.
 *
 * A LunatikModule is a JS object with functions: it cannot cross into a worker. A thread
 * names its modules instead: a builtin's name ("buffer", "crypto", "printk", "inspect"),
 * or the absolute file: URL of an ES module whose default export is a LunatikModule; the
 * worker imports it, at boot and again in every replacement after a kill.
 */
import { builtinModules } from '../../bindings/builtin.js';
import type { LunatikModule } from '../../bindings/module.js';
import { resolveOptions, type BootOptions, type ResolvedOptions } from '../options.js';

export interface ThreadOptions extends Omit<BootOptions, 'modules'> {
  /**
   * Modules loaded at boot, in order: builtin names or absolute file: URLs of ES modules
   * whose default export is a LunatikModule (default: the builtin set, as Kernel.boot).
   */
  modules?: readonly string[];
  /**
   * Hard deadline of one call in ms (default 1000): past it the worker is terminated, the
   * call returns -ETIME and a fresh kernel with the same options replaces it. For a
   * synchronous call it counts from the call (time spent waiting for an asynchronous item
   * that is already running included); for asynchronous work, from the item's start.
   */
  deadlineMs?: number;
  /**
   * Bytes of the shared result area (default 64 KiB). A longer result still arrives whole
   * (it crosses as a message instead), so this only tunes the fast path.
   */
  resultBytes?: number;
  /** How long a call waits for a (re)booting worker before giving up with -EBUSY (default 30 s). */
  bootTimeoutMs?: number;
  /**
   * Keep a second worker booted in the background (default true), so that after a kill
   * the replacement serves at once instead of booting while the next call waits. It costs
   * a second worker's memory and a boot per kill, off the caller's path.
   */
  standby?: boolean;
}

export interface ResolvedThreadOptions {
  /** The boot options to pass to the worker (plain data, modules removed). */
  boot: Omit<BootOptions, 'modules'>;
  modules: readonly string[] | undefined;
  kernel: ResolvedOptions;
  deadlineMs: number;
  codeBytes: number;
  resultBytes: number;
  bootTimeoutMs: number;
  standby: boolean;
}

const KiB = 1024;
const MiB = 1024 * KiB;
/** Code up to this size crosses in the shared area; longer code (limits.codeSize allowing) crosses as a message. */
const MAX_CODE_AREA = MiB + 1;

function integer(value: unknown, name: string, fallback: number, min: number, max: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min || value > max) {
    throw new RangeError(`${name} must be an integer from ${min} to ${max}, got ${String(value)}`);
  }
  return value;
}

/** Checks a thread's options on the host, with the same errors as Kernel.boot. Throws on bad options. */
export function resolveThreadOptions(options: ThreadOptions = {}): ResolvedThreadOptions {
  if (typeof options !== 'object' || options === null) throw new TypeError('thread options must be an object');
  const { modules, deadlineMs, resultBytes, bootTimeoutMs, standby, ...boot } = options;
  if (standby !== undefined && typeof standby !== 'boolean') throw new TypeError(`standby must be a boolean, got ${String(standby)}`);
  checkModuleSpecs(modules);
  const kernel = resolveOptions({ ...boot, modules: [] });
  return {
    boot,
    modules: modules === undefined ? undefined : [...modules],
    kernel,
    deadlineMs: integer(deadlineMs, 'deadlineMs', 1000, 1, 2 ** 31 - 1),
    codeBytes: Math.min(kernel.codeSizeLimit + 1, MAX_CODE_AREA),
    resultBytes: integer(resultBytes, 'resultBytes', 64 * KiB, 16, 256 * MiB),
    bootTimeoutMs: integer(bootTimeoutMs, 'bootTimeoutMs', 30_000, 1, 2 ** 31 - 1),
    standby: standby ?? true,
  };
}

function builtin(name: string): LunatikModule | undefined {
  return builtinModules.find((m) => m.name === name);
}

/** Throws unless every entry is a builtin's name or an absolute file: URL. */
export function checkModuleSpecs(specs: unknown): void {
  if (specs === undefined) return;
  if (!Array.isArray(specs)) throw new TypeError('modules must be an array of builtin module names or file: URLs');
  for (const spec of specs) {
    if (typeof spec !== 'string') throw new TypeError(`a thread's modules are named, not given: got ${typeof spec}`);
    if (builtin(spec) !== undefined) continue;
    let url: URL;
    try {
      url = new URL(spec);
    } catch {
      throw new RangeError(`unknown module '${spec}': not a builtin (${builtinModules.map((m) => m.name).join(', ')}) nor an absolute file: URL`);
    }
    if (url.protocol !== 'file:') throw new RangeError(`module '${spec}' must be a file: URL`);
  }
}

/** Worker side: the modules a spec list names, imported (each URL's default export). */
export async function loadModules(specs: readonly string[] | undefined): Promise<LunatikModule[] | undefined> {
  if (specs === undefined) return undefined;
  const modules: LunatikModule[] = [];
  for (const spec of specs) {
    const known = builtin(spec);
    if (known !== undefined) {
      modules.push(known);
      continue;
    }
    const imported = (await import(spec)) as { default?: unknown };
    const module = imported.default as Partial<LunatikModule> | undefined;
    if (typeof module !== 'object' || module === null || typeof module.name !== 'string' || typeof module.init !== 'function') {
      throw new TypeError(`the default export of ${spec} is not a LunatikModule`);
    }
    modules.push(module as LunatikModule);
  }
  return modules;
}
