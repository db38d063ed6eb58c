/*
 * PagePool: the Lua state's only lua_Alloc, over one region
 * [base, base + pages * pageSize) of the Wasm image's linear memory that
 * the kernel reserved at boot.
 *
 * Layers: BuddyAllocator hands out page blocks; SlabAllocator serves
 * requests <= KMALLOC_MAX_SIZE from size classes; LargeAllocator gives
 * bigger requests buddy blocks (or runs of them) directly. This file is
 * policy and accounting: Lua's realloc contract, the budget, statistics,
 * owners and leak reports.
 *
 * Contract and invariants:
 *  - luaAlloc follows lua_Alloc exactly: nsize 0 frees (ptr may be NULL);
 *    ptr NULL allocates and osize carries the object's type; otherwise
 *    realloc. A failed realloc returns 0 and leaves the old block and its
 *    bytes untouched, because Lua keeps using it after its emergency GC.
 *  - A realloc the block can already hold never fails, shrinks included:
 *    the pool prefers moving to the right class (or giving back the tail of
 *    a large block), and if there is no room for that the block stays where
 *    it is and only its recorded size changes. Lua treats a failed shrink
 *    as a memory error; the pool has no reason to cause one.
 *  - Large blocks grow in place into free upper buddies before moving.
 *  - Every address returned is 8-aligned (objects are multiples of 8 from
 *    page-aligned slabs), lies inside the region and is never 0 (with
 *    base 0, page 0 is claimed at init and never handed out).
 *  - Sizes and types are taken from the pool's own metadata, not from
 *    Lua's osize, so a wrong osize cannot skew accounting; pointers the
 *    pool did not hand out are counted in invalidPointers and ignored.
 *  - usedBytes is the sum of the requested sizes of live blocks, byType
 *    its split per Lua type; every page is free in the buddy allocator, in
 *    a slab, in a large block, or reserved (checkInvariants()).
 *  - Nothing about the region's contents is read or written except the
 *    bytes copied by a moving realloc, through a fresh heap() view each
 *    time, because memory.grow replaces the buffer.
 *  - No JS object is created per allocation: metadata is typed arrays.
 *
 * Fast path: the counters, the owner id and the slab structures live in the
 * pool's own WebAssembly.Memory (pool-memory.ts), which the image cannot
 * address, and wasm/pool-fastpath.wat serves the common calls on them
 * without entering JavaScript: malloc of <= 8 KiB from a class with a
 * partial slab, free of a slab object, realloc of a slab object to a size
 * of <= 8 KiB (in place within its class, or moved to a class with a
 * partial slab, the bytes copied by wasm/pool-copy.wat in the image's
 * memory). Everything else (new slabs, emptied slabs, large blocks, bad
 * pointers, refusals) it hands, arguments unchanged, to luaAllocJs() below:
 * the whole contract in JS on the same structures, so both make the same
 * choices. Statistics, sequence numbers and owners are written by whichever
 * side serves the call, so they are exact at every moment: there is no
 * cache or log to drain, and nothing to flush before a refusal or reset().
 * luaAlloc() and the function the kernel installs (wasmAllocFunction())
 * both enter through the fast path.
 */

import { imageCopyFunction, instantiatePoolFastPath, type LuaAllocFunction } from '../../wasm/pool-fastpath.js';
import { BuddyAllocator, MAX_ORDER } from './buddy.js';
import { formatBuddyinfo, formatMeminfo, formatSlabinfo } from './format.js';
import { LargeAllocator } from './large.js';
import { CATEGORY_COUNT, CATEGORY_NAMES, CATEGORY_SHIFT, TAG_FOR_OSIZE, TYPE_CATEGORY, luaTypeName, tagFor, type LuaTypeName, type TypeCategory } from './luatype.js';
import {
  ARENA_START,
  H_ALLOCATED,
  H_BASE,
  H_COUNT,
  H_COUNTERS_END,
  H_OWNER,
  H_PAGES,
  H_PAGE_CLASS,
  H_PAGE_SLOT,
  H_PEAK,
  H_SHIFT,
  H_TYPE_BYTES,
  H_USED,
  PoolMemory,
  SIZE_CLASS_TABLE,
  TAG_TABLE,
} from './pool-memory.js';
import { KMALLOC_MAX_SIZE, SIZE_TO_CLASS, SlabAllocator } from './slab.js';

export interface PagePoolOptions {
  /** Address of the region in linear memory, a multiple of pageSize. */
  base: number;
  /** Number of pages in the pool (the budget). */
  pages: number;
  /** Page size in bytes, a power of two >= 4096. */
  pageSize: number;
  /** Current view over the whole linear memory; called anew before every copy. */
  heap: () => Uint8Array;
  /** Record the current owner label (setOwner) for every block. */
  trackOwners?: boolean;
}

export interface MemInfo {
  totalPages: number;
  freePages: number;
  usedBytes: number;
  peakBytes: number;
  failedAllocations: number;
  byType: Record<TypeCategory, number>;
}

export interface SlabInfo {
  name: string;
  activeObjects: number;
  totalObjects: number;
  objectSize: number;
  objectsPerSlab: number;
  pagesPerSlab: number;
  slabs: number;
  activeSlabs: number;
}

export interface LeakRecord {
  address: number;
  size: number;
  sizeClass: string;
  luaType: LuaTypeName;
  sequence: number;
  owner?: string;
}

const MAX_OWNERS = 0xffff;
const REGION_LIMIT = 2 ** 32;
// Float64 indexes of the counters in the pool memory.
const USED = H_USED >> 3;
const PEAK = H_PEAK >> 3;
const ALLOCATED = H_ALLOCATED >> 3;
const COUNT = H_COUNT >> 3;
const TYPE_BYTES = H_TYPE_BYTES >> 3;
const OWNER = H_OWNER >> 2;

function footprintName(fp: number): string {
  const max = 1 << MAX_ORDER;
  return fp <= max ? `order-${31 - Math.clz32(fp)}` : `order-${MAX_ORDER}x${fp / max}`;
}

/** What /proc shows of a pool: the live pool, or a snapshot of one. */
export type PoolStatistics = Pick<PagePool, 'meminfo' | 'buddyinfo' | 'slabinfo' | 'formatMeminfo' | 'formatBuddyinfo' | 'formatSlabinfo'>;

export class PagePool {
  readonly base: number;
  readonly pages: number;
  readonly pageSize: number;
  readonly trackOwners: boolean;

  private readonly heap: () => Uint8Array;
  private readonly buddy: BuddyAllocator;
  private readonly slab: SlabAllocator;
  private readonly large: LargeAllocator;
  /** Counters, owner id and slab structures, shared with the Wasm fast path. */
  private readonly mem: PoolMemory;
  private readonly fast: LuaAllocFunction;
  /** The fast path over an image's memory (wasmAllocFunction), made once. */
  private imageFast: { memory: WebAssembly.Memory; fn: LuaAllocFunction } | null = null;
  private failed = 0;
  private invalid = 0;
  private reserved = 0;
  private ownerLabels: string[] = [''];
  private ownerIds = new Map<string, number>();

  constructor(opts: PagePoolOptions) {
    if (opts === null || typeof opts !== 'object') throw new TypeError('PagePool: options object required');
    const { base, pages, pageSize, heap } = opts;
    if (typeof pages !== 'number' || !Number.isInteger(pages) || pages <= 0) {
      throw new RangeError(`PagePool: option "pages" must be a positive integer, got ${String(pages)}`);
    }
    if (typeof pageSize !== 'number' || !Number.isInteger(pageSize) || pageSize < 4096 || (pageSize & (pageSize - 1)) !== 0 || pageSize > 2 ** 30) {
      throw new RangeError(`PagePool: option "pageSize" must be a power of two >= 4096 (and <= 1 GiB), got ${String(pageSize)}`);
    }
    if (typeof base !== 'number' || !Number.isSafeInteger(base) || base < 0 || base % pageSize !== 0) {
      throw new RangeError(`PagePool: option "base" must be a non-negative multiple of pageSize (${pageSize}), got ${String(base)}`);
    }
    if (base + pages * pageSize > REGION_LIMIT) {
      throw new RangeError(
        `PagePool: option "pages" puts the region [${base}, ${base + pages * pageSize}) beyond the 4 GiB a 32-bit image can address`,
      );
    }
    if (typeof heap !== 'function') throw new TypeError('PagePool: option "heap" must be a function returning a Uint8Array');
    this.base = base;
    this.pages = pages;
    this.pageSize = pageSize;
    this.heap = heap;
    this.trackOwners = opts.trackOwners === true;
    this.buddy = new BuddyAllocator(pages);
    this.mem = initPoolMemory(base, pages, pageSize);
    this.slab = new SlabAllocator(this.buddy, base, pageSize, this.trackOwners, this.mem);
    this.large = new LargeAllocator(this.buddy, base, pageSize, this.trackOwners, () => this.slab.shrink());
    this.fast = this.fastPath((dst: number, src: number, n: number) => {
      src >>>= 0;
      this.heap().copyWithin(dst >>> 0, src, src + n);
    });
    this.reserveNull();
  }

  /**
   * lua_Alloc(ud, ptr, osize, nsize) as a Wasm function, for the image's function table
   * (FunctionTable.place): the fast path, falling back to this pool's JS for the rest.
   * With the image's memory (the one heap() views), the copies of moving reallocs are
   * Wasm too, so the common calls of a Lua state never enter JavaScript. Both entry
   * points work on the same state and may be mixed.
   */
  wasmAllocFunction(imageMemory?: WebAssembly.Memory): WebAssembly.ExportValue {
    if (imageMemory === undefined) return this.fast;
    if (this.imageFast?.memory !== imageMemory) {
      if (imageMemory.buffer !== this.heap().buffer) throw new TypeError('PagePool.wasmAllocFunction: not the memory heap() views');
      this.imageFast = { memory: imageMemory, fn: this.fastPath(imageCopyFunction(imageMemory)) };
    }
    return this.imageFast.fn;
  }

  /** lua_Alloc(ptr, osize, nsize) from JS, through the same Wasm entry point Lua uses. Arguments may arrive as signed i32. */
  luaAlloc(ptr: number, osize: number, nsize: number): number {
    return this.fast(0, ptr, osize, nsize) >>> 0;
  }

  /**
   * The whole lua_Alloc contract in JS, without the fast path: what the fast path calls
   * for every case it does not serve. Same state, same choices, same results.
   */
  luaAllocJs(ptr: number, osize: number, nsize: number): number {
    ptr >>>= 0;
    nsize >>>= 0;
    if (nsize === 0) {
      if (ptr !== 0) this.free(ptr);
      return 0;
    }
    if (ptr === 0) return this.malloc(nsize, osize);
    return this.realloc(ptr, nsize);
  }

  /** Owner label for blocks allocated from now on (null: none). No-op unless trackOwners. */
  setOwner(label: string | null): void {
    if (!this.trackOwners) return;
    if (label === null) {
      this.mem.i32[OWNER] = 0;
      return;
    }
    let id = this.ownerIds.get(label);
    if (id === undefined) {
      if (this.ownerLabels.length > MAX_OWNERS) throw new RangeError(`PagePool: more than ${MAX_OWNERS} owner labels`);
      id = this.ownerLabels.length;
      this.ownerLabels.push(label);
      this.ownerIds.set(label, id);
    }
    this.mem.i32[OWNER] = id;
  }

  /** The whole pool free again, as a fresh one; O(pages). Counters restart too. */
  reset(): void {
    this.buddy.reset();
    this.slab.reset();
    this.large.reset();
    this.mem.f64.fill(0, 0, H_COUNTERS_END >> 3);
    this.mem.i32[OWNER] = 0;
    this.failed = 0;
    this.invalid = 0;
    this.ownerLabels = [''];
    this.ownerIds = new Map();
    this.reserveNull();
  }

  /** Returns cached empty slabs to the buddy allocator (kmem_cache_shrink); pages freed. */
  shrink(): number {
    return this.slab.shrink();
  }

  resetPeak(): void {
    const f = this.mem.f64;
    f[PEAK] = f[USED]!;
  }

  /** Successful allocations (and reallocs) since creation or reset(). */
  get allocationCount(): number {
    return this.mem.f64[COUNT]!;
  }

  /** Frees and reallocs of pointers this pool did not hand out (ignored). */
  get invalidPointers(): number {
    return this.invalid;
  }

  get usedBytes(): number {
    return this.mem.f64[USED]!;
  }

  get peakBytes(): number {
    return this.mem.f64[PEAK]!;
  }

  /** Bytes handed out (growth of reallocs included) since creation or reset(), never decreasing. */
  get allocatedBytes(): number {
    return this.mem.f64[ALLOCATED]!;
  }

  /** Requests refused since creation or reset(): how a caller tells a memory error was the budget. */
  get failedAllocations(): number {
    return this.failed;
  }

  /** Pages not free in the buddy allocator. */
  usedPages(): number {
    return this.pages - this.buddy.freePages;
  }

  meminfo(): MemInfo {
    const f = this.mem.f64;
    const t = TYPE_BYTES;
    return {
      totalPages: this.pages,
      freePages: this.buddy.freePages,
      usedBytes: f[USED]!,
      peakBytes: f[PEAK]!,
      failedAllocations: this.failed,
      byType: { strings: f[t]!, tables: f[t + 1]!, closures: f[t + 2]!, userdata: f[t + 3]!, threads: f[t + 4]!, others: f[t + 5]! },
    };
  }

  buddyinfo(): number[] {
    return this.buddy.freeBlocksPerOrder();
  }

  slabinfo(): SlabInfo[] {
    return this.slab.caches.map((k) => ({
      name: k.name,
      activeObjects: k.activeObjects,
      totalObjects: k.slabs * k.objsPerSlab,
      objectSize: k.objSize,
      objectsPerSlab: k.objsPerSlab,
      pagesPerSlab: k.pagesPerSlab,
      slabs: k.slabs,
      activeSlabs: k.activeSlabs,
    }));
  }

  formatMeminfo(): string {
    return formatMeminfo(this.meminfo(), this.pageSize, this.slab.slabPages(), this.large.pagesHeld);
  }

  formatBuddyinfo(): string {
    return formatBuddyinfo(this.buddyinfo());
  }

  formatSlabinfo(): string {
    return formatSlabinfo(this.slabinfo());
  }

  /** The statistics as they are now, readable after the pool itself is gone (a shut-down kernel answers from it). */
  snapshot(): PoolStatistics {
    const meminfo = this.meminfo();
    const buddyinfo = this.buddyinfo();
    const slabinfo = this.slabinfo();
    const text = formatMeminfo(meminfo, this.pageSize, this.slab.slabPages(), this.large.pagesHeld);
    return {
      meminfo: () => ({ ...meminfo, byType: { ...meminfo.byType } }),
      buddyinfo: () => [...buddyinfo],
      slabinfo: () => slabinfo.map((cache) => ({ ...cache })),
      formatMeminfo: () => text,
      formatBuddyinfo: () => formatBuddyinfo(buddyinfo),
      formatSlabinfo: () => formatSlabinfo(slabinfo),
    };
  }

  /** Every live block, oldest (lowest sequence) first. */
  leaks(): LeakRecord[] {
    const out: LeakRecord[] = [];
    const labels = this.ownerLabels;
    this.slab.forEachLive((address, k, m) => {
      const r: LeakRecord = { address, size: k.size(m), sizeClass: k.name, luaType: luaTypeName(k.tag(m)), sequence: k.seq(m) };
      if (k.ownerOf(m) !== 0) r.owner = labels[k.ownerOf(m)]!;
      out.push(r);
    });
    const L = this.large;
    L.forEachLive((address, p) => {
      const r: LeakRecord = { address, size: L.size[p]!, sizeClass: footprintName(L.footprint[p]!), luaType: luaTypeName(L.tag[p]!), sequence: L.seq[p]! };
      if (L.owner !== null && L.owner[p]! !== 0) r.owner = labels[L.owner[p]!]!;
      out.push(r);
    });
    return out.sort((a, b) => a.sequence - b.sequence);
  }

  /** Cross-checks every structure and counter; throws on the first inconsistency. */
  checkInvariants(): void {
    this.buddy.checkInvariants();
    this.slab.checkInvariants();
    const accounted = this.buddy.freePages + this.slab.slabPages() + this.large.pagesHeld + this.reserved;
    if (accounted !== this.pages) throw new Error(`pool: ${accounted} pages accounted for, ${this.pages} exist`);
    const t = new Float64Array(CATEGORY_COUNT);
    let used = 0;
    let large = 0;
    for (const r of this.leaks()) {
      used += r.size;
      t[TYPE_CATEGORY[CATEGORY_TAG[r.luaType]]!]! += r.size;
      if ((r.address - this.base) % 8 !== 0) throw new Error(`pool: block ${r.address} not 8-aligned`);
      if (!r.sizeClass.startsWith('kmalloc-')) large++;
    }
    if (large !== this.large.blocks) throw new Error(`pool: ${this.large.blocks} large blocks counted, ${large} live`);
    const f = this.mem.f64;
    if (used !== f[USED]) throw new Error(`pool: usedBytes ${f[USED]}, live blocks hold ${used}`);
    for (let i = 0; i < CATEGORY_COUNT; i++) {
      if (t[i] !== f[TYPE_BYTES + i]) throw new Error(`pool: byType.${CATEGORY_NAMES[i]} ${f[TYPE_BYTES + i]}, live blocks hold ${t[i]}`);
    }
    if (f[PEAK]! < f[USED]!) throw new Error(`pool: peakBytes ${f[PEAK]} below usedBytes ${f[USED]}`);
  }

  private fastPath(copy: ((dst: number, src: number, n: number) => void) | WebAssembly.ExportValue): LuaAllocFunction {
    return instantiatePoolFastPath(this.mem.memory, {
      slow: (ptr, osize, nsize) => this.luaAllocJs(ptr, osize, nsize),
      emptied: (c, s) => this.slab.emptied(this.slab.caches[c]!, s),
      copy,
    });
  }

  private malloc(nsize: number, osize: number): number {
    const tag = tagFor(osize);
    const seq = this.mem.f64[COUNT]! + 1;
    const owner = this.mem.i32[OWNER]!;
    const p =
      nsize <= KMALLOC_MAX_SIZE
        ? this.slab.alloc(SIZE_TO_CLASS[(nsize + 7) >> 3]!, nsize, tag, seq, owner)
        : this.large.alloc(this.large.footprintFor(nsize), nsize, tag, seq, owner);
    if (p === 0) {
      this.failed++;
      return 0;
    }
    this.mem.f64[COUNT] = seq;
    this.account(tag, nsize);
    return p;
  }

  private free(ptr: number): void {
    const slab = this.slab;
    const m = slab.locate(ptr);
    if (m >= 0) {
      const c = slab.cls;
      const k = slab.caches[c]!;
      this.unaccount(k.tag(m), k.size(m));
      slab.release(c, slab.slot, m);
      return;
    }
    const p = this.large.locate(ptr);
    if (p >= 0) {
      this.unaccount(this.large.tag[p]!, this.large.size[p]!);
      this.large.release(p);
      return;
    }
    this.invalid++;
  }

  private realloc(ptr: number, nsize: number): number {
    const slab = this.slab;
    const seq = this.mem.f64[COUNT]! + 1;
    const m = slab.locate(ptr);
    if (m >= 0) {
      const c = slab.cls;
      const s = slab.slot;
      const k = slab.caches[c]!;
      const old = k.size(m);
      const tag = k.tag(m);
      if (nsize <= KMALLOC_MAX_SIZE && SIZE_TO_CLASS[(nsize + 7) >> 3] === c) {
        k.resize(m, nsize, seq);
        this.mem.f64[COUNT] = seq;
        this.account(tag, nsize - old);
        return ptr;
      }
      const np = this.place(nsize, tag, seq, k.ownerOf(m));
      if (np === 0) {
        if (nsize > k.objSize) {
          this.failed++;
          return 0;
        }
        k.resize(m, nsize, seq);
        this.mem.f64[COUNT] = seq;
        this.account(tag, nsize - old);
        return ptr;
      }
      this.heap().copyWithin(np, ptr, ptr + Math.min(old, nsize));
      slab.release(c, s, m);
      this.mem.f64[COUNT] = seq;
      this.account(tag, nsize - old);
      return np;
    }
    const L = this.large;
    const p = L.locate(ptr);
    if (p < 0) {
      this.invalid++;
      return 0;
    }
    const old = L.size[p]!;
    const tag = L.tag[p]!;
    const fp = L.footprintFor(nsize);
    if (nsize > KMALLOC_MAX_SIZE && fp !== 0 && fp <= L.footprint[p]!) {
      // Same or smaller footprint: stay, giving back the tail if any.
      L.shrinkInPlace(p, fp);
    } else if (nsize > KMALLOC_MAX_SIZE && fp !== 0 && L.growInPlace(p, fp)) {
      // Doubling into a free buddy: no copy, no second block.
    } else {
      const np = this.place(nsize, tag, seq, L.owner !== null ? L.owner[p]! : 0);
      if (np !== 0) {
        this.heap().copyWithin(np, ptr, ptr + Math.min(old, nsize));
        L.release(p);
        this.mem.f64[COUNT] = seq;
        this.account(tag, nsize - old);
        return np;
      }
      if (fp === 0 || fp > L.footprint[p]!) {
        this.failed++;
        return 0;
      }
      L.shrinkInPlace(p, fp);
    }
    L.size[p] = nsize;
    L.seq[p] = seq;
    this.mem.f64[COUNT] = seq;
    this.account(tag, nsize - old);
    return ptr;
  }

  /** A new block for a moving realloc, keeping the old block's type and owner. */
  private place(nsize: number, tag: number, seq: number, owner: number): number {
    return nsize <= KMALLOC_MAX_SIZE
      ? this.slab.alloc(SIZE_TO_CLASS[(nsize + 7) >> 3]!, nsize, tag, seq, owner)
      : this.large.alloc(this.large.footprintFor(nsize), nsize, tag, seq, owner);
  }

  private account(tag: number, delta: number): void {
    const f = this.mem.f64;
    if (delta > 0) f[ALLOCATED]! += delta;
    const u = (f[USED] = f[USED]! + delta);
    if (u > f[PEAK]!) f[PEAK] = u;
    f[TYPE_BYTES + (tag >> CATEGORY_SHIFT)]! += delta;
  }

  private unaccount(tag: number, size: number): void {
    const f = this.mem.f64;
    f[USED]! -= size;
    f[TYPE_BYTES + (tag >> CATEGORY_SHIFT)]! -= size;
  }

  private reserveNull(): void {
    this.reserved = 0;
    if (this.base === 0) {
      this.buddy.claim(0, 0);
      this.reserved = 1;
    }
  }
}

/** A pool memory with its header, lookup tables and page maps written. */
function initPoolMemory(base: number, pages: number, pageSize: number): PoolMemory {
  const mapBytes = ((pages + 7) & ~7) + pages * 4;
  const mem = new PoolMemory(ARENA_START + mapBytes + (1 << 16));
  const pageClass = mem.alloc(pages);
  const pageSlot = mem.alloc(pages * 4);
  if (pageClass === 0 || pageSlot === 0) throw new RangeError(`PagePool: no memory for the page maps of ${pages} pages`);
  const i32 = mem.i32;
  i32[H_BASE >> 2] = base | 0;
  i32[H_PAGES >> 2] = pages;
  i32[H_SHIFT >> 2] = 31 - Math.clz32(pageSize);
  i32[H_PAGE_CLASS >> 2] = pageClass;
  i32[H_PAGE_SLOT >> 2] = pageSlot;
  mem.u8.set(SIZE_TO_CLASS, SIZE_CLASS_TABLE);
  mem.u8.set(TAG_FOR_OSIZE, TAG_TABLE);
  return mem;
}

const CATEGORY_TAG: Record<LuaTypeName, number> = {
  string: 4,
  table: 5,
  function: 6,
  userdata: 7,
  thread: 8,
  upvalue: 9,
  proto: 10,
  other: 0,
};
