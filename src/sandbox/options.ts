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
    /** Page size of the pool, a power of two of at least 4096 (default 4096). */
    pageSize?: number;
    /** Pages in the pool: the Lua state's whole budget (default 64 MiB worth). */
    pages?: number;
    /** The budget in bytes instead of pages (rounded up to whole pages); not with `pages`. */
    limit?: number;
    /** Record which binding or Lua type allocated each live block, for leak reports (default false). */
    trackOwners?: boolean;
  };
  limits?: {
    /** Largest `codeSz` sysLua accepts, in bytes (default 1 MiB). */
    codeSize?: number;
    /** VM instructions one call may execute; beyond it the call returns -ETIME (default: no budget). */
    instructions?: number;
    /**
     * Wall-clock time one call may take, checked by the same hook every 1000 instructions
     * (default: none). A soft limit: a hang inside C (a pathological pattern) or a looping
     * __gc never reaches the hook; KernelThread's deadlineMs is the hard one.
     */
    timeMs?: number;
    /** Nesting levels of tables a value crossing the boundary may have (eval/call/expose); deeper gives -E2BIG (default 100, at most 1000). */
    valueDepth?: number;
    /** Table entries one conversion may create or read; more gives -E2BIG (default 1,000,000). */
    valueEntries?: number;
  };
  log?: {
    /** Kernel log ring buffer size in bytes (default 64 KiB). */
    capacity?: number;
  };
}

export interface ResolvedOptions {
  modules: readonly LunatikModule[];
  isolate: boolean;
  pageSize: number;
  pages: number;
  trackOwners: boolean;
  codeSizeLimit: number;
  instructionLimit: number | undefined;
  timeLimitMs: number | undefined;
  valueDepth: number;
  valueEntries: number;
  logCapacity: number;
}

const MiB = 1024 * 1024;
/** The image addresses 2 GiB; keep room for its own data, stack and transfer buffers. */
export const MAX_POOL_BYTES = 1536 * MiB;
const DEFAULT_POOL_BYTES = 64 * MiB;

function integerOption(value: unknown, name: string, fallback: number, min: number, max: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min || value > max) {
    throw new RangeError(`${name} must be an integer from ${min} to ${max}, got ${String(value)}`);
  }
  return value;
}

function optionalInteger(value: unknown, name: string, min: number, max: number): number | undefined {
  return value === undefined ? undefined : integerOption(value, name, min, min, max);
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
    ...resolveMemory(options.memory ?? {}),
    codeSizeLimit: integerOption(options.limits?.codeSize, 'limits.codeSize', MiB, 1, 256 * MiB),
    instructionLimit: optionalInteger(options.limits?.instructions, 'limits.instructions', 1, Number.MAX_SAFE_INTEGER),
    timeLimitMs: optionalInteger(options.limits?.timeMs, 'limits.timeMs', 1, 2 ** 31),
    // Conversions recurse once per level on the JS stack: 1000 levels stay far from its end.
    valueDepth: integerOption(options.limits?.valueDepth, 'limits.valueDepth', 100, 1, 1000),
    valueEntries: integerOption(options.limits?.valueEntries, 'limits.valueEntries', 1_000_000, 1, 2 ** 26),
    logCapacity: integerOption(options.log?.capacity, 'log.capacity', 64 * 1024, 1024, 256 * MiB),
  };
}

function resolveMemory(memory: NonNullable<BootOptions['memory']>): Pick<ResolvedOptions, 'pageSize' | 'pages' | 'trackOwners'> {
  if (typeof memory !== 'object' || memory === null) throw new TypeError('memory must be an object');
  const pageSize = integerOption(memory.pageSize, 'memory.pageSize', 4096, 4096, 1024 * MiB);
  if ((pageSize & (pageSize - 1)) !== 0) throw new RangeError(`memory.pageSize must be a power of two, got ${pageSize}`);
  if (memory.pages !== undefined && memory.limit !== undefined) throw new RangeError('give memory.pages or memory.limit, not both');
  const maxPages = Math.floor(MAX_POOL_BYTES / pageSize);
  const limit = integerOption(memory.limit, 'memory.limit', DEFAULT_POOL_BYTES, 1, MAX_POOL_BYTES);
  const pages = integerOption(memory.pages, 'memory.pages', Math.ceil(limit / pageSize), 1, maxPages);
  if (memory.trackOwners !== undefined && typeof memory.trackOwners !== 'boolean') {
    throw new TypeError(`memory.trackOwners must be a boolean, got ${String(memory.trackOwners)}`);
  }
  return { pageSize, pages, trackOwners: memory.trackOwners ?? false };
}
