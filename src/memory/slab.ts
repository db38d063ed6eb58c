/*
 * kmalloc-style size-class caches on top of buddy pages (mm/slub.c's job).
 *
 * A slab is one buddy block of a fixed order per class, cut into
 * objsPerSlab objects of objSize bytes; objects are never split or merged.
 * The order is the smallest (at most SLAB_MAX_ORDER, as SLUB's
 * slub_max_order) that holds MIN_OBJECTS objects, so big classes do not
 * hand back whole pages for every other object.
 *
 * Identifiers:
 *  - every live slab has a slot number s, private to its cache and reused
 *    through a stack, so per-slab data is a dense array entry;
 *  - object i of slab s has metadata index m = s * objsPerSlab + i, so the
 *    per-object data (free link, requested size, type tag, sequence,
 *    owner) is a dense typed-array entry too: no JS object per allocation.
 *  - pageClass[page] = class + 1 and pageSlot[page] = s for every page of a
 *    slab, so any address inside the region maps back to its object with
 *    two loads and a division.
 *
 * Lists and invariants:
 *  - partial: slabs with 0 < inuse < objsPerSlab, doubly linked, LIFO
 *    (most recently freed-into slab first: its lines are warm);
 *  - full slabs are on no list (SLUB does the same); they rejoin partial
 *    when one object is freed;
 *  - at most one empty slab per class is kept (empty), so an
 *    alloc/free/alloc ping-pong at a slab boundary does not go to the buddy
 *    allocator each time; others go straight back. shrink() returns the
 *    cached ones too, and grow() calls it before failing, so the cache never
 *    costs an allocation.
 *  - objects i >= fresh[s] have not been handed out since slab s was made:
 *    free, on no explicit list, their records never read (stale after a
 *    reset or a destroyed slab: nothing is cleared, so making a slab costs
 *    nothing per object). They are served in address order, which keeps
 *    objects allocated together next to each other, as Lua's GC and
 *    traversals like it (a LIFO list through recycled records does not).
 *  - below fresh[s], tag != 0 iff the object is allocated, and the free
 *    ones form the list freeHead[s] -> link -> ... ending at fresh[s]
 *    itself; popping fresh[s] advances it (SLUB's lazy freelist).
 *
 * Storage: every list head, per-slab array and per-object record lives in
 * the pools' memory (pool-memory.ts), viewed from here as typed arrays,
 * so the Wasm fast path (wasm/pool-fastpath.wat) runs alloc from a partial
 * slab and release (the full -> partial transition included) on the same
 * structures; what needs the buddy allocator (grow, emptied, shrink) stays
 * here, and the fast path calls emptied(). The JS alloc/locate/release
 * below are the same algorithm, used by the pool's slow paths: both must
 * make identical choices (test/memory/pool-fastpath.test.ts compares them).
 * An object's size, tag, sequence number and free-list link share one
 * 16-byte record, so an allocation or a free touches one line of metadata.
 *
 * Fast paths are a handful of loads and stores: this runs on every Lua
 * allocation.
 */

import { BuddyAllocator, MAX_ORDER } from './buddy.js';
import {
  CLASS_DESC,
  CLASS_DESC_BYTES,
  D_FREE_HEAD,
  D_FRESH,
  D_INUSE,
  D_NEXT,
  D_OBJS_PER_SLAB,
  D_OBJ_SIZE,
  D_OWNER,
  D_PARTIAL,
  D_PREV,
  D_RECIPROCAL,
  D_RECORDS,
  D_SLAB_PAGE,
  H_PAGE_CLASS,
  H_PAGES,
  H_PAGE_SLOT,
  RECORD_BYTES,
  R_OBJ_NEXT,
  R_SEQ,
  R_SIZE,
  R_TAG,
  type ArenaLease,
  type PoolMemory,
} from './pool-memory.js';

// Indexes of object m's record fields in the record views (multiplied, not shifted:
// records can pass 2 GiB in a big pool).
const NEXT_AT = (m: number): number => m * (RECORD_BYTES >> 2) + (R_OBJ_NEXT >> 2);
const SIZE_AT = (m: number): number => m * (RECORD_BYTES >> 1) + (R_SIZE >> 1);
const TAG_AT = (m: number): number => m * RECORD_BYTES + R_TAG;
const SEQ_AT = (m: number): number => m * (RECORD_BYTES >> 3) + (R_SEQ >> 3);

export const SIZE_CLASSES: readonly number[] = Object.freeze([8, 16, 32, 64, 96, 128, 192, 256, 512, 1024, 2048, 4096, 8192]);
export const KMALLOC_MAX_SIZE = 8192;
const SLAB_MAX_ORDER = 3;
const MIN_OBJECTS = 8;
const NIL = -1;

/** Class index for a size, looked up at (size + 7) >> 3, sizes 1..KMALLOC_MAX_SIZE (internal: mutable). */
export const SIZE_TO_CLASS: Uint8Array = (() => {
  const t = new Uint8Array((KMALLOC_MAX_SIZE >> 3) + 1);
  let c = 0;
  for (let i = 0; i < t.length; i++) {
    while (SIZE_CLASSES[c]! < i << 3) c++;
    t[i] = c;
  }
  return t;
})();

/** Class index serving a request of `size` bytes, or -1 above KMALLOC_MAX_SIZE. */
export function sizeClassOf(size: number): number {
  return size >= 0 && size <= KMALLOC_MAX_SIZE ? SIZE_TO_CLASS[(size + 7) >> 3]! : -1;
}

function resized(a: Int32Array, len: number): Int32Array {
  const b = new Int32Array(len);
  b.set(a);
  return b;
}

/** Per-slab arrays (4 bytes per slot) and per-object arrays (bytes per object), by descriptor field. */
const SLAB_ARRAYS = [D_SLAB_PAGE, D_INUSE, D_FREE_HEAD, D_NEXT, D_PREV, D_FRESH] as const;
const OBJECT_ARRAYS: readonly (readonly [field: number, bytes: number])[] = [
  [D_RECORDS, RECORD_BYTES],
  [D_OWNER, 2],
];

/** Linux's cache names: kmalloc-96, kmalloc-1k, kmalloc-8k. */
export function slabName(objSize: number): string {
  return objSize >= 1024 && objSize % 1024 === 0 ? `kmalloc-${objSize / 1024}k` : `kmalloc-${objSize}`;
}

export class SlabCache {
  readonly index: number;
  readonly name: string;
  readonly objSize: number;
  readonly order: number;
  readonly pagesPerSlab: number;
  readonly objsPerSlab: number;
  /** Upper bound on slots: the region cannot hold more slabs. */
  readonly maxSlots: number;
  /** Byte address of this class's descriptor in the pool memory. */
  readonly desc: number;
  readonly trackOwners: boolean;

  // Views over the pool memory (rebound by bind() whenever it grows).
  // per slab slot
  slabPage!: Int32Array;
  inuse!: Int32Array;
  freeHead!: Int32Array;
  fresh!: Int32Array;
  next!: Int32Array;
  prev!: Int32Array;
  // per object m: views over the records (pool-memory.ts R_*), read through the methods below
  private rec32!: Int32Array;
  private rec16!: Uint16Array;
  private rec8!: Uint8Array;
  private recF64!: Float64Array;
  owner: Uint16Array | null = null;

  slotCap = 0;
  slotHigh = 0;
  /** Stack of released slots (JS only: the fast path never creates slabs). */
  freeSlots: Int32Array;
  freeSlotCount = 0;
  empty = NIL;
  slabs = 0;

  private readonly mem: PoolMemory;
  private readonly lease: ArenaLease;
  private readonly partialIndex: number;

  /** `header`: the pool's header address; `pages`: the most the pool can ever commit. */
  constructor(index: number, objSize: number, pageSize: number, pages: number, trackOwners: boolean, lease: ArenaLease, header: number) {
    this.index = index;
    this.objSize = objSize;
    this.name = slabName(objSize);
    let order = 0;
    while (order < SLAB_MAX_ORDER && order < MAX_ORDER && (pageSize << order) / objSize < MIN_OBJECTS) order++;
    this.order = order;
    this.pagesPerSlab = 1 << order;
    this.objsPerSlab = Math.floor((pageSize * this.pagesPerSlab) / objSize);
    this.maxSlots = Math.floor(pages / this.pagesPerSlab);
    this.trackOwners = trackOwners;
    this.lease = lease;
    const mem = (this.mem = lease.mem);
    this.desc = header + CLASS_DESC + index * CLASS_DESC_BYTES;
    this.partialIndex = (this.desc + D_PARTIAL) >> 2;
    this.freeSlots = new Int32Array(0);
    const d = this.desc >> 2;
    mem.i32[d + (D_OBJ_SIZE >> 2)] = objSize;
    mem.i32[d + (D_OBJS_PER_SLAB >> 2)] = this.objsPerSlab;
    mem.i32[d + (D_RECIPROCAL >> 2)] = Math.floor(2 ** 32 / objSize) + 1;
    this.partial = NIL;
    this.bind();
  }

  /** Free-list link of free object m (below its slab's fresh index): the next free index. */
  objNext(m: number): number {
    return this.rec32[NEXT_AT(m)]!;
  }

  setObjNext(m: number, next: number): void {
    this.rec32[NEXT_AT(m)] = next;
  }

  /** Requested size of object m. */
  size(m: number): number {
    return this.rec16[SIZE_AT(m)]!;
  }

  /** Tag byte of object m: 0 iff free. */
  tag(m: number): number {
    return this.rec8[TAG_AT(m)]!;
  }

  setTag(m: number, tag: number): void {
    this.rec8[TAG_AT(m)] = tag;
  }

  /** Allocation sequence number of object m. */
  seq(m: number): number {
    return this.recF64[SEQ_AT(m)]!;
  }

  /** Owner id of object m (0: none or not tracked). */
  ownerOf(m: number): number {
    return this.owner !== null ? this.owner[m]! : 0;
  }

  /** Records a live object m's size and sequence number (realloc). */
  resize(m: number, size: number, seq: number): void {
    this.rec16[SIZE_AT(m)] = size;
    this.recF64[SEQ_AT(m)] = seq;
  }

  /** Head of the partial list (in the pool memory: the fast path pops and pushes it). */
  get partial(): number {
    return this.mem.i32[this.partialIndex]!;
  }

  set partial(s: number) {
    this.mem.i32[this.partialIndex] = s;
  }

  /** Objects allocated (O(slabs): statistics only, kept off the fast path). */
  get activeObjects(): number {
    let n = 0;
    for (let s = 0; s < this.slotHigh; s++) if (this.slabPage[s] !== NIL) n += this.inuse[s]!;
    return n;
  }

  /** Slabs holding at least one object. */
  get activeSlabs(): number {
    return this.empty === NIL ? this.slabs : this.slabs - 1;
  }

  /** Recreates the views from the descriptor (after the pool memory grew or the arrays moved). */
  bind(): void {
    const buf = this.mem.memory.buffer;
    const i32 = this.mem.i32;
    const d = this.desc >> 2;
    const cap = this.slotCap;
    const n = cap * this.objsPerSlab;
    this.slabPage = new Int32Array(buf, i32[d + (D_SLAB_PAGE >> 2)]!, cap);
    this.inuse = new Int32Array(buf, i32[d + (D_INUSE >> 2)]!, cap);
    this.freeHead = new Int32Array(buf, i32[d + (D_FREE_HEAD >> 2)]!, cap);
    this.fresh = new Int32Array(buf, i32[d + (D_FRESH >> 2)]!, cap);
    this.next = new Int32Array(buf, i32[d + (D_NEXT >> 2)]!, cap);
    this.prev = new Int32Array(buf, i32[d + (D_PREV >> 2)]!, cap);
    const rec = i32[d + (D_RECORDS >> 2)]!;
    this.rec32 = new Int32Array(buf, rec, n * (RECORD_BYTES >> 2));
    this.rec16 = new Uint16Array(buf, rec, n * (RECORD_BYTES >> 1));
    this.rec8 = new Uint8Array(buf, rec, n * RECORD_BYTES);
    this.recF64 = new Float64Array(buf, rec, n * (RECORD_BYTES >> 3));
    this.owner = this.trackOwners ? new Uint16Array(buf, i32[d + (D_OWNER >> 2)]!, n) : null;
  }

  /**
   * Doubling growth of the metadata arrays; amortised O(1) per slab. False if out of slots
   * or memory. Starts at one slot: an idle kernel uses most classes, a slab or two each.
   */
  growSlots(): boolean {
    if (this.slotCap >= this.maxSlots) return false;
    const cap = Math.min(this.maxSlots, Math.max(1, this.slotCap * 2));
    const ops = this.objsPerSlab;
    const arrays: [field: number, bytes: number, oldBytes: number][] = [
      ...SLAB_ARRAYS.map((f): [number, number, number] => [f, cap * 4, this.slotCap * 4]),
      ...OBJECT_ARRAYS.filter(([f]) => f !== D_OWNER || this.trackOwners).map(([f, b]): [number, number, number] => [f, cap * ops * b, this.slotCap * ops * b]),
    ];
    const { mem, lease } = this;
    const fresh: number[] = [];
    for (const [, bytes] of arrays) {
      const addr = lease.alloc(bytes);
      if (addr === 0) {
        fresh.forEach((a, j) => lease.free(a, arrays[j]![1]));
        return false;
      }
      fresh.push(addr);
    }
    // mem.alloc may have grown the memory: read the descriptor only now.
    const d = this.desc >> 2;
    arrays.forEach(([field, , oldBytes], j) => {
      const old = mem.i32[d + (field >> 2)]!;
      if (oldBytes > 0) mem.u8.copyWithin(fresh[j]!, old, old + oldBytes);
      lease.free(old, oldBytes);
      mem.i32[d + (field >> 2)] = fresh[j]!;
    });
    this.freeSlots = resized(this.freeSlots, cap);
    this.slotCap = cap;
    this.bind();
    return true;
  }

  pushPartial(s: number): void {
    const h = this.partial;
    this.next[s] = h;
    this.prev[s] = NIL;
    if (h !== NIL) this.prev[h] = s;
    this.partial = s;
  }

  unlinkPartial(s: number): void {
    const n = this.next[s]!;
    const p = this.prev[s]!;
    if (p !== NIL) this.next[p] = n;
    else this.partial = n;
    if (n !== NIL) this.prev[n] = p;
  }
}

export class SlabAllocator {
  readonly caches: SlabCache[];
  /** class + 1 for every committed page of a live slab, 0 elsewhere (a view over the pool memory). */
  pageClass!: Uint8Array;
  /** slab slot of every committed page of a live slab, stale elsewhere (a view over the pool memory). */
  pageSlot!: Int32Array;
  /** Out-parameters of locate(): class and slot of the object found. */
  cls = 0;
  slot = 0;

  private readonly buddy: BuddyAllocator;
  private readonly base: number;
  private readonly pageSize: number;
  private readonly shift: number;
  private limit = 0;
  private mapPages = 0;
  private readonly mem: PoolMemory;
  private readonly lease: ArenaLease;
  private readonly header: number;
  private readonly more: (pages: number) => boolean;
  private readonly maxPages: number;
  private generation = -1;

  /**
   * Over the buddy allocator's committed pages, up to `maxPages`; `more(n)` asks the pool
   * to commit pages for a block of n pages (false: none). The page maps are made here.
   */
  constructor(buddy: BuddyAllocator, base: number, pageSize: number, maxPages: number, trackOwners: boolean, lease: ArenaLease, header: number, more: (pages: number) => boolean) {
    this.buddy = buddy;
    this.base = base;
    this.pageSize = pageSize;
    this.shift = 31 - Math.clz32(pageSize);
    this.mem = lease.mem;
    this.lease = lease;
    this.header = header;
    this.more = more;
    this.maxPages = maxPages;
    this.caches = SIZE_CLASSES.map((size, i) => new SlabCache(i, size, pageSize, maxPages, trackOwners, lease, header));
    if (!this.commitPages(buddy.pages)) throw new RangeError(`PagePool: no memory for the page maps of ${buddy.pages} pages`);
  }

  /** Rebinds every view if the pool memory grew since they were made; call before using them. */
  sync(): void {
    if (this.generation === this.mem.generation) return;
    this.generation = this.mem.generation;
    const { mem } = this;
    const buf = mem.memory.buffer;
    const h = this.header;
    this.pageClass = new Uint8Array(buf, mem.i32[(h + H_PAGE_CLASS) >> 2]!, this.mapPages);
    this.pageSlot = new Int32Array(buf, mem.i32[(h + H_PAGE_SLOT) >> 2]!, this.mapPages);
    for (const k of this.caches) k.bind();
  }

  /** The buddy allocator now has `pages` committed pages: page maps that cover them (false: no memory). */
  commitPages(pages: number): boolean {
    const { mem, lease } = this;
    const h = this.header;
    if (pages > this.mapPages) {
      const cap = Math.min(this.maxPages, Math.max(pages, this.mapPages * 2));
      const cls = lease.alloc(cap);
      const slot = cls === 0 ? 0 : lease.alloc(cap * 4);
      if (slot === 0) {
        lease.free(cls, cap);
        return false;
      }
      const oldCls = mem.i32[(h + H_PAGE_CLASS) >> 2]!;
      const oldSlot = mem.i32[(h + H_PAGE_SLOT) >> 2]!;
      if (this.mapPages > 0) {
        mem.u8.copyWithin(cls, oldCls, oldCls + this.mapPages);
        mem.u8.copyWithin(slot, oldSlot, oldSlot + this.mapPages * 4);
        lease.free(oldCls, this.mapPages);
        lease.free(oldSlot, this.mapPages * 4);
      }
      mem.i32[(h + H_PAGE_CLASS) >> 2] = cls;
      mem.i32[(h + H_PAGE_SLOT) >> 2] = slot;
      this.mapPages = cap;
      this.generation = -1;
    }
    this.limit = pages * this.pageSize;
    mem.i32[(h + H_PAGES) >> 2] = pages;
    this.sync();
    return true;
  }

  /** Address of a new object of class c carrying the given metadata, or 0. */
  alloc(c: number, size: number, tag: number, seq: number, owner: number): number {
    this.sync();
    const k = this.caches[c]!;
    let s = k.partial;
    if (s === NIL) {
      s = this.grow(k);
      if (s === NIL) return 0;
    }
    const i = k.freeHead[s]!;
    const ops = k.objsPerSlab;
    const m = s * ops + i;
    if (i === k.fresh[s]) k.freeHead[s] = k.fresh[s] = i + 1;
    else k.freeHead[s] = k.objNext(m);
    if (++k.inuse[s]! === ops) k.unlinkPartial(s);
    k.resize(m, size, seq);
    k.setTag(m, tag);
    if (k.owner !== null) k.owner[m] = owner;
    return this.base + k.slabPage[s]! * this.pageSize + i * k.objSize;
  }

  /**
   * Metadata index of the live object that starts exactly at ptr, or -1 (not
   * in a slab, inside an object, or already free). Sets cls and slot.
   */
  locate(ptr: number): number {
    this.sync();
    const off = ptr - this.base;
    if (off < 0 || off >= this.limit) return NIL;
    const p = off >>> this.shift;
    const cp = this.pageClass[p]!;
    if (cp === 0) return NIL;
    const k = this.caches[cp - 1]!;
    const s = this.pageSlot[p]!;
    const o = off - k.slabPage[s]! * this.pageSize;
    const sz = k.objSize;
    const i = (o / sz) | 0;
    if (i * sz !== o || i >= k.fresh[s]!) return NIL;
    const m = s * k.objsPerSlab + i;
    if (k.tag(m) === 0) return NIL;
    this.cls = cp - 1;
    this.slot = s;
    return m;
  }

  /** Frees object m (as found by locate) of slot s in class c. */
  release(c: number, s: number, m: number): void {
    this.sync();
    const k = this.caches[c]!;
    const ops = k.objsPerSlab;
    const i = m - s * ops;
    k.setTag(m, 0);
    k.setObjNext(m, k.freeHead[s]!);
    k.freeHead[s] = i;
    const n = k.inuse[s]!;
    k.inuse[s] = n - 1;
    if (n === ops) k.pushPartial(s);
    if (n === 1) this.emptied(k, s);
  }

  /** Gives every cached empty slab back to the buddy allocator; returns pages freed. */
  shrink(): number {
    this.sync();
    let freed = 0;
    for (const k of this.caches) {
      const s = k.empty;
      if (s !== NIL) {
        k.empty = NIL;
        this.destroy(k, s);
        freed += k.pagesPerSlab;
      }
    }
    return freed;
  }

  /** Pages held by slabs, including cached empty ones. */
  slabPages(): number {
    let n = 0;
    for (const k of this.caches) n += k.slabs * k.pagesPerSlab;
    return n;
  }

  /** Forgets every slab (the buddy allocator is reset by the caller); O(pages). */
  reset(): void {
    this.sync();
    this.pageClass.fill(0);
    for (const k of this.caches) {
      k.slotHigh = 0;
      k.freeSlotCount = 0;
      k.partial = NIL;
      k.empty = NIL;
      k.slabs = 0;
    }
  }

  /** Calls fn(address, class, m) for every live object, in address order per slab. */
  forEachLive(fn: (address: number, k: SlabCache, m: number) => void): void {
    this.sync();
    for (const k of this.caches) {
      const ops = k.objsPerSlab;
      for (let s = 0; s < k.slotHigh; s++) {
        const page = k.slabPage[s]!;
        if (page === NIL || k.inuse[s] === 0) continue;
        const addr = this.base + page * this.pageSize;
        const fresh = k.fresh[s]!;
        for (let i = 0, m = s * ops; i < fresh; i++, m++) {
          if (k.tag(m) !== 0) fn(addr + i * k.objSize, k, m);
        }
      }
    }
  }

  /** Throws on the first inconsistency between lists, counters and tags (tests). */
  checkInvariants(): void {
    this.sync();
    for (const k of this.caches) {
      const ops = k.objsPerSlab;
      let slabs = 0;
      let active = 0;
      const onPartial = new Set<number>();
      for (let s = k.partial, n = 0; s !== NIL; s = k.next[s]!) {
        if (++n > k.slotHigh) throw new Error(`${k.name}: cycle in partial list`);
        if (!(k.inuse[s]! > 0 && k.inuse[s]! < ops)) throw new Error(`${k.name}: slab ${s} on partial list with inuse ${k.inuse[s]}`);
        onPartial.add(s);
      }
      for (let s = 0; s < k.slotHigh; s++) {
        const page = k.slabPage[s]!;
        if (page === NIL) continue;
        slabs++;
        const fresh = k.fresh[s]!;
        if (!(fresh >= 0 && fresh <= ops)) throw new Error(`${k.name}: slab ${s} fresh index ${fresh}`);
        let live = 0;
        for (let i = 0; i < fresh; i++) if (k.tag(s * ops + i) !== 0) live++;
        let free = ops - fresh;
        for (let i = k.freeHead[s]!; i !== fresh; i = k.objNext(s * ops + i)) {
          if (!(i >= 0 && i < fresh)) throw new Error(`${k.name}: free list of slab ${s} links to ${i}`);
          if (k.tag(s * ops + i) !== 0) throw new Error(`${k.name}: live object ${i} on free list of slab ${s}`);
          if (++free > ops) throw new Error(`${k.name}: cycle in free list of slab ${s}`);
        }
        if (live !== k.inuse[s] || live + free !== ops) throw new Error(`${k.name}: slab ${s} inuse ${k.inuse[s]}, live ${live}, free ${free}`);
        const partial = live > 0 && live < ops;
        if (partial !== onPartial.has(s)) throw new Error(`${k.name}: slab ${s} partial=${partial} but list membership differs`);
        if (live === 0 && k.empty !== s) throw new Error(`${k.name}: empty slab ${s} not released`);
        if (!this.buddy.isUsedHead(page) || this.buddy.orderOf(page) !== k.order) throw new Error(`${k.name}: slab ${s} page ${page} not a used order-${k.order} block`);
        for (let q = page; q < page + k.pagesPerSlab; q++) {
          if (this.pageClass[q] !== k.index + 1 || this.pageSlot[q] !== s) throw new Error(`${k.name}: page map wrong at ${q}`);
        }
        active += live;
      }
      if (slabs !== k.slabs) throw new Error(`${k.name}: slabs ${k.slabs}, found ${slabs}`);
      if (active !== k.activeObjects) throw new Error(`${k.name}: activeObjects ${k.activeObjects}, found ${active}`);
    }
  }

  /** A slab with a free object for k: the cached empty one, or a new one. */
  private grow(k: SlabCache): number {
    let s = k.empty;
    if (s !== NIL) {
      k.empty = NIL;
      k.pushPartial(s);
      return s;
    }
    let page = this.buddy.alloc(k.order);
    if (page === NIL && this.shrink() > 0) page = this.buddy.alloc(k.order);
    if (page === NIL && this.more(k.pagesPerSlab)) page = this.buddy.alloc(k.order);
    if (page === NIL) return NIL;
    if (k.freeSlotCount > 0) {
      s = k.freeSlots[--k.freeSlotCount]!;
    } else {
      const grown = k.slotHigh < k.slotCap || k.growSlots();
      this.sync(); // growing the arrays may have grown the pool memory
      if (!grown) {
        this.buddy.free(page);
        return NIL;
      }
      s = k.slotHigh++;
    }
    // Every object fresh: no record is touched (see the header).
    k.slabPage[s] = page;
    k.inuse[s] = 0;
    k.freeHead[s] = 0;
    k.fresh[s] = 0;
    for (let q = page; q < page + k.pagesPerSlab; q++) {
      this.pageClass[q] = k.index + 1;
      this.pageSlot[q] = s;
    }
    k.slabs++;
    k.pushPartial(s);
    return s;
  }

  /** Slab s of k just became empty (here or in the fast path): keep it as the class's spare or free it. */
  emptied(k: SlabCache, s: number): void {
    this.sync();
    k.unlinkPartial(s);
    if (k.empty === NIL) {
      k.empty = s;
      return;
    }
    this.destroy(k, s);
  }

  private destroy(k: SlabCache, s: number): void {
    const page = k.slabPage[s]!;
    this.pageClass.fill(0, page, page + k.pagesPerSlab);
    this.buddy.free(page);
    k.slabPage[s] = NIL;
    k.freeSlots[k.freeSlotCount++] = s;
    k.slabs--;
  }
}
