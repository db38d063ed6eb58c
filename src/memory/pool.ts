/*
 * PagePool: the Lua state's only lua_Alloc, over one region
 * [base, base + pages * pageSize) of the Wasm image's linear memory. With a
 * `commit` function the region is committed from its start as the state
 * first needs pages (the buddy allocator and the page metadata grow with
 * it, up to `pages`, the budget); without one it is all committed at once.
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
 *  - Large blocks hold exactly the pages their size needs and grow in place
 *    into free pages right after them before moving.
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
 * Fast path: the counters, the owner id and the slab structures live in a
 * pool memory (pool-memory.ts, a WebAssembly.Memory shared by a few hundred
 * pools, each pool's part at its header address), which the image cannot
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
import { BuddyAllocator } from './buddy.js';
import { formatBuddyinfo, formatMeminfo, formatSlabinfo } from './format.js';
import { LargeAllocator } from './large.js';
import { CATEGORY_COUNT, CATEGORY_NAMES, CATEGORY_SHIFT, TAG_FOR_OSIZE, TYPE_CATEGORY, luaTypeName, tagFor, type LuaTypeName, type TypeCategory } from './luatype.js';
import {
  ArenaLease,
  HEADER_BYTES,
  H_ALLOCATED,
  H_BASE,
  H_COUNT,
  H_COUNTERS_END,
  H_OWNER,
  H_PEAK,
  H_SHIFT,
  H_TYPE_BYTES,
  H_USED,
  SIZE_CLASS_TABLE,
  TAG_TABLE,
  type PoolMemory,
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
  /**
   * Makes [base, base + bytes) addressable (grows the memory heap() views); false if it
   * cannot. Given, the pool commits pages as the state first needs them, up to `pages`;
   * absent, the whole region is taken as committed from the start.
   */
  commit?: (bytes: number) => boolean;
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

/** A large block's class in leak reports: its page count. */
function footprintName(fp: number): string {
  return `pages-${fp}`;
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
  private readonly lease: ArenaLease;
  /** Address of this pool's header in the pool memory, and its f64 and i32 indexes. */
  private readonly header: number;
  private readonly f0: number;
  private readonly i0: number;
  private readonly commit: ((bytes: number) => boolean) | null;
  /** The fast path with a JavaScript copy, for luaAlloc() (made at first use). */
  private jsFast: LuaAllocFunction | null = null;
  /** The fast path over an image's memory (wasmAllocFunction), made once. */
  private imageFast: { memory: WebAssembly.Memory; fn: LuaAllocFunction } | null = null;
  private failed = 0;
  private invalid = 0;
  private reserved = 0;
  /** The kernel's scratch area (scratch()): first page and page count, 0 pages when none. */
  private scratchPage = 0;
  private scratchPages = 0;
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
    if (opts.commit !== undefined && typeof opts.commit !== 'function') throw new TypeError('PagePool: option "commit" must be a function');
    this.base = base;
    this.pages = pages;
    this.pageSize = pageSize;
    this.heap = heap;
    this.trackOwners = opts.trackOwners === true;
    this.commit = opts.commit ?? null;
    const initial = this.commit === null ? pages : Math.min(pages, Math.max(1, COMMIT_STEP_BYTES / pageSize));
    if (this.commit !== null && !this.commit(initial * pageSize)) throw new RangeError(`PagePool: cannot commit the first ${initial} pages`);
    this.buddy = new BuddyAllocator(initial);
    this.lease = new ArenaLease();
    this.mem = this.lease.mem;
    this.header = initHeader(this.lease, base, pageSize);
    this.f0 = this.header >> 3;
    this.i0 = this.header >> 2;
    const more = (n: number): boolean => this.commitMore(n);
    try {
      this.slab = new SlabAllocator(this.buddy, base, pageSize, pages, this.trackOwners, this.lease, this.header, more);
    } catch (e) {
      this.lease.release();
      throw e;
    }
    this.large = new LargeAllocator(this.buddy, base, pageSize, pages, this.trackOwners, () => this.slab.shrink(), more);
    leases.register(this, this.lease, this.lease);
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

  /** The fast path whose moving reallocs copy through heap() (made at first use). */
  private get fast(): LuaAllocFunction {
    this.jsFast ??= this.fastPath((dst: number, src: number, n: number) => {
      src >>>= 0;
      this.heap().copyWithin(dst >>> 0, src, src + n);
    });
    return this.jsFast;
  }

  /** Pages committed so far (all of them when the pool has no commit function). */
  get committedPages(): number {
    return this.buddy.pages;
  }

  /**
   * Gives this pool's bookkeeping back to the pool memory. The pool must not be used
   * after (its Lua state closed or discarded). A pool nobody disposes of gives it back
   * when collected.
   */
  dispose(): void {
    leases.unregister(this.lease);
    this.lease.release();
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
      this.mem.i32[this.i0 + OWNER] = 0;
      return;
    }
    let id = this.ownerIds.get(label);
    if (id === undefined) {
      if (this.ownerLabels.length > MAX_OWNERS) throw new RangeError(`PagePool: more than ${MAX_OWNERS} owner labels`);
      id = this.ownerLabels.length;
      this.ownerLabels.push(label);
      this.ownerIds.set(label, id);
    }
    this.mem.i32[this.i0 + OWNER] = id;
  }

  /** The whole pool free again, as a fresh one; O(pages). Counters restart too. */
  reset(): void {
    this.buddy.reset();
    this.slab.reset();
    this.large.reset();
    this.mem.f64.fill(0, this.f0, this.f0 + (H_COUNTERS_END >> 3));
    this.mem.i32[this.i0 + OWNER] = 0;
    this.failed = 0;
    this.invalid = 0;
    this.ownerLabels = [''];
    this.ownerIds = new Map();
    this.reserveNull();
  }

  /**
   * Address of at least `size` bytes of scratch space in the pool's pages, for the
   * kernel's own transfers (code copied in, values crossing), or 0 when the pool has no
   * room. One area, kept until a larger one is asked for or reset(); its pages count as
   * reserved: not Lua's, so not in usedBytes, the statistics or the leak report. Keeping
   * the transfers out of the image's own heap is what keeps that heap from growing into
   * the pool's uncommitted pages (src/sandbox/machine.ts).
   */
  scratch(size: number): number {
    const np = Math.max(1, Math.ceil(size / this.pageSize));
    if (np > this.scratchPages) {
      if (np > this.pages) return 0;
      if (this.scratchPages > 0) {
        this.buddy.freeRange(this.scratchPage, this.scratchPages);
        this.reserved -= this.scratchPages;
        this.scratchPages = 0;
      }
      const page = this.large.takePages(np);
      if (page < 0) return 0;
      this.scratchPage = page;
      this.scratchPages = np;
      this.reserved += np;
    }
    return this.base + this.scratchPage * this.pageSize;
  }

  /** Returns cached empty slabs to the buddy allocator (kmem_cache_shrink); pages freed. */
  shrink(): number {
    return this.slab.shrink();
  }

  resetPeak(): void {
    const f = this.mem.f64;
    f[this.f0 + PEAK] = f[this.f0 + USED]!;
  }

  /** Successful allocations (and reallocs) since creation or reset(). */
  get allocationCount(): number {
    return this.mem.f64[this.f0 + COUNT]!;
  }

  /** Frees and reallocs of pointers this pool did not hand out (ignored). */
  get invalidPointers(): number {
    return this.invalid;
  }

  get usedBytes(): number {
    return this.mem.f64[this.f0 + USED]!;
  }

  get peakBytes(): number {
    return this.mem.f64[this.f0 + PEAK]!;
  }

  /** Bytes handed out (growth of reallocs included) since creation or reset(), never decreasing. */
  get allocatedBytes(): number {
    return this.mem.f64[this.f0 + ALLOCATED]!;
  }

  /** Requests refused since creation or reset(): how a caller tells a memory error was the budget. */
  get failedAllocations(): number {
    return this.failed;
  }

  /** Pages not free in the buddy allocator. */
  usedPages(): number {
    return this.buddy.pages - this.buddy.freePages;
  }

  meminfo(): MemInfo {
    const f = this.mem.f64;
    const t = this.f0 + TYPE_BYTES;
    return {
      totalPages: this.pages,
      freePages: this.pages - this.usedPages(),
      usedBytes: f[this.f0 + USED]!,
      peakBytes: f[this.f0 + PEAK]!,
      failedAllocations: this.failed,
      byType: { strings: f[t]!, tables: f[t + 1]!, closures: f[t + 2]!, userdata: f[t + 3]!, threads: f[t + 4]!, others: f[t + 5]! },
    };
  }

  /** Free blocks per order, the pages not committed yet counted as free (they are, to the budget). */
  buddyinfo(): number[] {
    return this.buddy.freeBlocksPerOrder(this.pages);
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
    const { pageSize } = this;
    const slabPages = this.slab.slabPages();
    const largePages = this.large.pagesHeld;
    return {
      meminfo: () => ({ ...meminfo, byType: { ...meminfo.byType } }),
      buddyinfo: () => [...buddyinfo],
      slabinfo: () => slabinfo.map((cache) => ({ ...cache })),
      formatMeminfo: () => formatMeminfo(meminfo, pageSize, slabPages, largePages),
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
    if (accounted !== this.buddy.pages) throw new Error(`pool: ${accounted} pages accounted for, ${this.buddy.pages} committed`);
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
    if (used !== f[this.f0 + USED]) throw new Error(`pool: usedBytes ${f[this.f0 + USED]}, live blocks hold ${used}`);
    for (let i = 0; i < CATEGORY_COUNT; i++) {
      if (t[i] !== f[this.f0 + TYPE_BYTES + i]) throw new Error(`pool: byType.${CATEGORY_NAMES[i]} ${f[this.f0 + TYPE_BYTES + i]}, live blocks hold ${t[i]}`);
    }
    if (f[this.f0 + PEAK]! < f[this.f0 + USED]!) throw new Error(`pool: peakBytes ${f[this.f0 + PEAK]} below usedBytes ${f[this.f0 + USED]}`);
  }

  /**
   * Commits at least n more pages at the end of the region (at least COMMIT_STEP_BYTES and
   * a quarter of what is committed, so a state's growth commits O(log) times), false if
   * the pool is at its size or the memory cannot grow.
   */
  private commitMore(n: number): boolean {
    const cur = this.buddy.pages;
    if (this.commit === null || cur >= this.pages) return false;
    const step = Math.max(n, cur >> 2, COMMIT_STEP_BYTES / this.pageSize);
    for (const want of [Math.min(this.pages, cur + step), cur + n]) {
      if (want > this.pages || want <= cur || !this.commit(want * this.pageSize)) continue;
      this.buddy.grow(want);
      this.large.commitPages(want);
      if (!this.slab.commitPages(want)) return false;
      return true;
    }
    return false;
  }

  private fastPath(copy: ((dst: number, src: number, n: number) => void) | WebAssembly.ExportValue): LuaAllocFunction {
    return instantiatePoolFastPath(this.mem.memory, this.header, {
      slow: (ptr, osize, nsize) => this.luaAllocJs(ptr, osize, nsize),
      emptied: (c, s) => this.slab.emptied(this.slab.caches[c]!, s),
      copy,
    });
  }

  private malloc(nsize: number, osize: number): number {
    const tag = tagFor(osize);
    const seq = this.mem.f64[this.f0 + COUNT]! + 1;
    const owner = this.mem.i32[this.i0 + OWNER]!;
    const p =
      nsize <= KMALLOC_MAX_SIZE
        ? this.slab.alloc(SIZE_TO_CLASS[(nsize + 7) >> 3]!, nsize, tag, seq, owner)
        : this.large.alloc(this.large.footprintFor(nsize), nsize, tag, seq, owner);
    if (p === 0) {
      this.failed++;
      return 0;
    }
    this.mem.f64[this.f0 + COUNT] = seq;
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
    const seq = this.mem.f64[this.f0 + COUNT]! + 1;
    const m = slab.locate(ptr);
    if (m >= 0) {
      const c = slab.cls;
      const s = slab.slot;
      const k = slab.caches[c]!;
      const old = k.size(m);
      const tag = k.tag(m);
      if (nsize <= KMALLOC_MAX_SIZE && SIZE_TO_CLASS[(nsize + 7) >> 3] === c) {
        k.resize(m, nsize, seq);
        this.mem.f64[this.f0 + COUNT] = seq;
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
        this.mem.f64[this.f0 + COUNT] = seq;
        this.account(tag, nsize - old);
        return ptr;
      }
      this.heap().copyWithin(np, ptr, ptr + Math.min(old, nsize));
      slab.release(c, s, m);
      this.mem.f64[this.f0 + COUNT] = seq;
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
      // Into the free pages right after the block: no copy, no second block.
    } else {
      const np = this.place(nsize, tag, seq, L.owner !== null ? L.owner[p]! : 0);
      if (np !== 0) {
        this.heap().copyWithin(np, ptr, ptr + Math.min(old, nsize));
        L.release(p);
        this.mem.f64[this.f0 + COUNT] = seq;
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
    this.mem.f64[this.f0 + COUNT] = seq;
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
    if (delta > 0) f[this.f0 + ALLOCATED]! += delta;
    const u = (f[this.f0 + USED] = f[this.f0 + USED]! + delta);
    if (u > f[this.f0 + PEAK]!) f[this.f0 + PEAK] = u;
    f[this.f0 + TYPE_BYTES + (tag >> CATEGORY_SHIFT)]! += delta;
  }

  private unaccount(tag: number, size: number): void {
    const f = this.mem.f64;
    f[this.f0 + USED]! -= size;
    f[this.f0 + TYPE_BYTES + (tag >> CATEGORY_SHIFT)]! -= size;
  }

  private reserveNull(): void {
    this.reserved = 0;
    this.scratchPages = 0;
    if (this.base === 0) {
      this.buddy.claim(0, 0);
      this.reserved = 1;
    }
  }
}

/** Bytes committed at a time, at least: one Wasm page, the unit the image's memory grows by. */
const COMMIT_STEP_BYTES = 65536;

/** Frees the pool memory blocks of pools collected without dispose(). */
const leases = new FinalizationRegistry<ArenaLease>((lease) => lease.release());

/** A pool header with its lookup tables written (the page maps are the slab allocator's). */
function initHeader(lease: ArenaLease, base: number, pageSize: number): number {
  const header = lease.alloc(HEADER_BYTES);
  if (header === 0) throw new RangeError('PagePool: no memory for the pool header');
  const { i32, u8 } = lease.mem;
  i32[(header + H_BASE) >> 2] = base | 0;
  i32[(header + H_SHIFT) >> 2] = 31 - Math.clz32(pageSize);
  u8.set(SIZE_TO_CLASS, header + SIZE_CLASS_TABLE);
  u8.set(TAG_FOR_OSIZE, header + TAG_TABLE);
  return header;
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
