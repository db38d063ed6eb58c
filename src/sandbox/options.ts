/*
 * Boot options: what a kernel can be told, checked once at boot with errors that name
 * the option, and the defaults DESIGN.md gives.
 */

import { builtinModules } from '../bindings/builtin.js';
import type { LunatikModule } from '../bindings/module.js';

export interface BootOptions {
  /** Modules loaded at boot, in order (default: buffer, crypto, printk and inspect). */
  modules?: readonly LunatikModule[];
  /** A fresh Lua state for every call instead of one persistent state (default false). */
  isolate?: boolean;
  memory?: {
    /** Bytes the Lua state may hold at once (default 64 MiB). */
    limit?: number;
  };
  limits?: {
    /** Largest `codeSz` sysLua accepts, in bytes (default 1 MiB). */
    codeSize?: number;
  };
  log?: {
    /** Kernel log ring buffer size in bytes (default 64 KiB). */
    capacity?: number;
  };
}

export interface ResolvedOptions {
  modules: readonly LunatikModule[];
  isolate: boolean;
  memoryLimit: number;
  codeSizeLimit: number;
  logCapacity: number;
}

const MiB = 1024 * 1024;
/** The image addresses 2 GiB; keep room for its own data, stack and transfer buffers. */
const MAX_MEMORY_LIMIT = 1536 * MiB;

function integerOption(value: unknown, name: string, fallback: number, min: number, max: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min || value > max) {
    throw new RangeError(`${name} must be an integer from ${min} to ${max}, got ${String(value)}`);
  }
  return value;
}

export function resolveOptions(options: BootOptions = {}): ResolvedOptions {
  if (typeof options !== 'object' || options === null) throw new TypeError('boot options must be an object');
  if (options.isolate !== undefined && typeof options.isolate !== 'boolean') {
    throw new TypeError(`isolate must be a boolean, got ${String(options.isolate)}`);
  }
  if (options.modules !== undefined && !Array.isArray(options.modules)) throw new TypeError('modules must be an array of modules');
  return {
    modules: options.modules ?? builtinModules,
    isolate: options.isolate ?? false,
    memoryLimit: integerOption(options.memory?.limit, 'memory.limit', 64 * MiB, 64 * 1024, MAX_MEMORY_LIMIT),
    codeSizeLimit: integerOption(options.limits?.codeSize, 'limits.codeSize', MiB, 1, 256 * MiB),
    logCapacity: integerOption(options.log?.capacity, 'log.capacity', 64 * 1024, 1024, 256 * MiB),
  };
}
