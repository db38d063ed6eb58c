// Shared by the memory tests: a pool over a plain Uint8Array, and a model
// of what Lua believes it holds, filled with position-dependent patterns so
// overlaps and bad copies show up as wrong bytes.

import { PagePool, type PagePoolOptions } from '../../src/memory/index.js';

/** Region start used by makePool with the default page size (one page in, so 0 stays NULL). */
export const BASE = 4096;

export function makePool(pages: number, pageSize = 4096, extra: Partial<PagePoolOptions> = {}): { pool: PagePool; mem: Uint8Array } {
  const base = extra.base ?? pageSize;
  const mem = new Uint8Array(base + pages * pageSize);
  const pool = new PagePool({ base, pages, pageSize, heap: () => mem, ...extra });
  return { pool, mem };
}

const RAMP = new Uint8Array(256 + 70000 + 64);
for (let i = 0; i < RAMP.length; i++) RAMP[i] = (i * 7 + (i >> 8)) & 255;

/** Writes the pattern of `seed` over [addr, addr + size). */
export function fill(mem: Uint8Array, addr: number, size: number, seed: number): void {
  mem.set(RAMP.subarray(seed & 255, (seed & 255) + size), addr);
}

/** Index of the first byte of [addr, addr + len) that differs from seed's pattern, or -1. */
export function firstMismatch(mem: Uint8Array, addr: number, len: number, seed: number): number {
  const s = seed & 255;
  for (let i = 0; i < len; i++) if (mem[addr + i] !== RAMP[s + i]) return i;
  return -1;
}

/** Lua type tag -> byType key, as the pool must classify it. */
export function categoryOf(tag: number): 'strings' | 'tables' | 'closures' | 'userdata' | 'threads' | 'others' {
  const t = tag >= 0 && tag < 64 ? tag & 15 : 0;
  switch (t) {
    case 4:
      return 'strings';
    case 5:
      return 'tables';
    case 6:
      return 'closures';
    case 7:
      return 'userdata';
    case 8:
      return 'threads';
    default:
      return 'others';
  }
}

export function emptyByType(): Record<ReturnType<typeof categoryOf>, number> {
  return { strings: 0, tables: 0, closures: 0, userdata: 0, threads: 0, others: 0 };
}

/** Everything observable about a pool's state, for "equal to a fresh pool" checks. */
export function snapshot(pool: PagePool): unknown {
  return {
    meminfo: pool.meminfo(),
    buddyinfo: pool.buddyinfo(),
    slabinfo: pool.slabinfo(),
    leaks: pool.leaks(),
    usedPages: pool.usedPages(),
    allocationCount: pool.allocationCount,
    invalidPointers: pool.invalidPointers,
    meminfoText: pool.formatMeminfo(),
  };
}
