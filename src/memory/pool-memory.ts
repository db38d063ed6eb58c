/*
 * The pools' own linear memories: a WebAssembly.Memory shared by up to POOLS_PER_MEMORY
 * PagePools that holds their bookkeeping, which the Wasm fast path (wasm/pool-fastpath.wat) and
 * the JavaScript slow paths share: each pool's header (counters, the page -> slab map
 * addresses, its size classes' descriptors) and the arrays it points to (page maps, every
 * slab's lists and per-object records). The Lua images cannot address it (it is none of
 * their memories and Node 20 has no multi-memory), so no bug in Lua's C code can corrupt
 * it. One memory for many pools, not one per pool: V8 reserves about 10 GiB of address
 * space per Wasm memory on 64-bit, and a kernel's own image memory is one already. Not
 * one for all pools either: a Wasm memory never shrinks, so a memory whose pools are all
 * gone is dropped (and collected) instead of holding the peak of a crowd of kernels.
 *
 * Header layout (byte offsets from the pool's header address; wasm/pool-fastpath.wat
 * hard-codes the same numbers relative to its imported $h, and the differential tests in
 * test/memory/pool-fastpath.test.ts fail if the two disagree):
 *
 *   0   f64 usedBytes            8  f64 peakBytes          16 f64 allocatedBytes
 *   24  f64 allocation count (the last sequence number handed out)
 *   32  f64 byType[6] (strings, tables, closures, userdata, threads, others)
 *   80  i32 current owner id     84 i32 region base       88 i32 pages committed
 *   92  i32 log2(pageSize)       96 i32 &pageClass[0]     100 i32 &pageSlot[0]
 *   128 + 64 * c: size class c's descriptor (D_* offsets below)
 *       per-object data is one 16-byte record per object (R_* offsets below), so
 *       an allocation or a free touches one cache line of metadata, not four
 *   1024 u8[1025]  class of a request of n bytes, at (n + 7) >> 3, n = 1..8192
 *   2112 u8[64]    tag byte of a fresh allocation's osize 0..63 (luatype.ts)
 *
 * Arena: power-of-two blocks with one free list per size, carved from a bump pointer
 * and never returned to it. The slab arrays double when they grow, so the arrays a
 * class outgrows are reused by later requests of their size (any pool's); what is held
 * is at most about twice the live arrays. A pool takes its blocks through an ArenaLease,
 * which gives them all back when the pool is disposed of, or collected. The memory grows
 * only here (never in Wasm), and growth detaches every view: holders compare
 * `generation` with the one they bound at and rebind before using their views.
 */

export const WASM_PAGE_BYTES = 65536;

export const H_USED = 0;
export const H_PEAK = 8;
export const H_ALLOCATED = 16;
export const H_COUNT = 24;
export const H_TYPE_BYTES = 32;
export const H_OWNER = 80;
export const H_BASE = 84;
export const H_PAGES = 88;
export const H_SHIFT = 92;
export const H_PAGE_CLASS = 96;
export const H_PAGE_SLOT = 100;
/** Bytes of the counters reset() zeroes: used, peak, allocated, count, byType. */
export const H_COUNTERS_END = 80;

export const CLASS_DESC = 128;
export const CLASS_DESC_BYTES = 64;
/** Descriptor fields (byte offsets; array fields hold the array's address). */
export const D_PARTIAL = 0;
export const D_OBJ_SIZE = 4;
export const D_OBJS_PER_SLAB = 8;
/** Per slab slot, i32 each. */
export const D_SLAB_PAGE = 12;
export const D_INUSE = 16;
export const D_FREE_HEAD = 20;
export const D_NEXT = 24;
export const D_PREV = 28;
/** Per object m = slot * objsPerSlab + i: its record. */
export const D_RECORDS = 32;
/** Per object, u16 owner ids; 0 when owners are not tracked. */
export const D_OWNER = 36;
/** floor(2^32 / objSize) + 1: offset * this >> 32 is offset / objSize for every multiple of objSize in a slab. */
export const D_RECIPROCAL = 40;
/** Per slab slot, i32: objects at this index and above were never handed out since the slab was made. */
export const D_FRESH = 44;

/** An object's record: free-list link (i32), requested size (u16), tag (u8; 0: free), sequence number (f64). */
export const RECORD_BYTES = 16;
export const R_OBJ_NEXT = 0;
export const R_SIZE = 4;
export const R_TAG = 6;
export const R_SEQ = 8;

export const SIZE_CLASS_TABLE = 1024;
export const TAG_TABLE = 2112;
/** Bytes of a pool's header block. */
export const HEADER_BYTES = TAG_TABLE + 64;
/** The arena starts above address 0, which alloc() returns for "no memory". */
export const ARENA_START = 4096;

const MAX_BYTES = 65536 * WASM_PAGE_BYTES;

export class PoolMemory {
  readonly memory: WebAssembly.Memory;
  u8!: Uint8Array;
  i32!: Int32Array;
  f64!: Float64Array;
  /** Incremented by every growth: views bound at an older generation are detached. */
  generation = 0;
  /** Pools whose bookkeeping lives here (ArenaLease). */
  pools = 0;

  private top = ARENA_START;
  private readonly freeBlocks: number[][] = Array.from({ length: 33 }, () => []);

  constructor(initialBytes: number) {
    const pages = Math.max(1, Math.ceil(Math.max(initialBytes, ARENA_START) / WASM_PAGE_BYTES));
    this.memory = new WebAssembly.Memory({ initial: pages });
    this.bindViews();
  }

  get byteLength(): number {
    return this.memory.buffer.byteLength;
  }

  /** Bytes handed out by the bump pointer so far (blocks free or in use). */
  get arenaBytes(): number {
    return this.top - ARENA_START;
  }

  /**
   * Address of a zero-filled block of at least `bytes` bytes (the next power of two),
   * 8-aligned, or 0 when the memory cannot grow enough.
   */
  alloc(bytes: number): number {
    if (!(bytes <= MAX_BYTES)) return 0;
    const b = bucketOf(bytes);
    const size = 2 ** b;
    let addr = this.freeBlocks[b]!.pop();
    if (addr === undefined) {
      addr = this.top;
      if (addr + size > this.byteLength && !this.growTo(addr + size)) return 0;
      this.top = addr + size;
    }
    this.u8.fill(0, addr, addr + size);
    return addr;
  }

  /** Gives back a block from alloc(bytes) (same `bytes`). */
  free(addr: number, bytes: number): void {
    if (addr !== 0) this.freeBlocks[bucketOf(bytes)]!.push(addr);
  }

  private growTo(end: number): boolean {
    if (end > MAX_BYTES) return false;
    const cur = this.byteLength;
    // Grow by at least a quarter (and 1 MiB) so the pools' metadata grows O(log) times.
    const want = Math.min(MAX_BYTES, Math.max(end, cur + (cur >> 2), cur + (1 << 20)));
    for (const target of [want, end]) {
      try {
        this.memory.grow(Math.ceil((target - cur) / WASM_PAGE_BYTES));
        this.bindViews();
        this.generation++;
        return true;
      } catch {
        // the host refused this much memory: try the exact need, then give up
      }
    }
    return false;
  }

  private bindViews(): void {
    const buf = this.memory.buffer;
    this.u8 = new Uint8Array(buf);
    this.i32 = new Int32Array(buf);
    this.f64 = new Float64Array(buf);
  }
}

/** Pools per memory: a few MiB of bookkeeping for idle kernels, and a memory freed soon after its pools. */
export const POOLS_PER_MEMORY = 256;
/** The memory new pools go to. */
let open: PoolMemory | null = null;
/** Memories that hold at least one pool's bookkeeping, and the open one. */
const inUse = new Set<PoolMemory>();

/** A pool memory with room for one more pool (counted until its ArenaLease is released). */
export function acquirePoolMemory(): PoolMemory {
  if (open === null || open.pools >= POOLS_PER_MEMORY) {
    open = new PoolMemory(INITIAL_BYTES);
    inUse.add(open);
  }
  open.pools++;
  return open;
}

/** Initial size of a pool memory: a few dozen idle pools' bookkeeping. */
const INITIAL_BYTES = 1 << 20;

function releasePoolMemory(mem: PoolMemory): void {
  if (--mem.pools !== 0) return;
  // An empty memory is dropped, unless it is the open one at its first size (kept, so a
  // kernel booted and shut down in a loop does not make a memory each time).
  if (mem === open && mem.byteLength <= INITIAL_BYTES) return;
  if (mem === open) open = null;
  inUse.delete(mem);
}

/** The pool memories in use: how many, and the bytes their arenas have handed out. */
export function poolMemoryStats(): { memories: number; arenaBytes: number } {
  let arenaBytes = 0;
  for (const mem of inUse) arenaBytes += mem.arenaBytes;
  return { memories: inUse.size, arenaBytes };
}

/**
 * The arena blocks one pool holds, given back all at once by release(): when the pool is
 * disposed of, or (through a FinalizationRegistry) when a pool nobody disposed of, such as
 * a panicked kernel's, is collected.
 */
export class ArenaLease {
  readonly mem: PoolMemory;
  private readonly blocks = new Map<number, number>();
  private released = false;

  /** A lease in a pool memory with room (acquirePoolMemory). */
  constructor() {
    this.mem = acquirePoolMemory();
  }

  alloc(bytes: number): number {
    const addr = this.mem.alloc(bytes);
    if (addr !== 0) this.blocks.set(addr, bytes);
    return addr;
  }

  free(addr: number, bytes: number): void {
    if (this.blocks.delete(addr)) this.mem.free(addr, bytes);
  }

  release(): void {
    if (this.released) return;
    this.released = true;
    for (const [addr, bytes] of this.blocks) this.mem.free(addr, bytes);
    this.blocks.clear();
    releasePoolMemory(this.mem);
  }
}

function bucketOf(bytes: number): number {
  return bytes <= 8 ? 3 : 32 - Math.clz32(bytes - 1);
}
