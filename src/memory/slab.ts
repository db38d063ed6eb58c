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
 *  - tag[m] != 0 iff object m is allocated; freeHead/objNext chain exactly
 *    the objects with tag 0 of that slab.
 *
 * Fast paths (alloc with a partial slab, free not crossing full/empty) are
 * a handful of typed-array loads and stores: this runs on every Lua
 * allocation.
 */

import { BuddyAllocator, MAX_ORDER } from './buddy.js';

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

type Metadata = Int32Array | Uint16Array | Uint8Array | Float64Array;

function resized<T extends Metadata>(a: T, len: number): T {
  const b = new (a.constructor as new (n: number) => T)(len);
  b.set(a);
  return b;
}

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

  // per slab slot
  slabPage: Int32Array;
  inuse: Int32Array;
  freeHead: Int32Array;
  next: Int32Array;
  prev: Int32Array;
  // per object
  objNext: Int32Array;
  size: Uint16Array;
  tag: Uint8Array;
  seq: Float64Array;
  owner: Uint16Array | null;

  slotCap = 0;
  slotHigh = 0;
  freeSlots: Int32Array;
  freeSlotCount = 0;
  partial = NIL;
  empty = NIL;
  slabs = 0;

  constructor(index: number, objSize: number, pageSize: number, pages: number, trackOwners: boolean) {
    this.index = index;
    this.objSize = objSize;
    this.name = slabName(objSize);
    let order = 0;
    while (order < SLAB_MAX_ORDER && order < MAX_ORDER && (pageSize << order) / objSize < MIN_OBJECTS) order++;
    this.order = order;
    this.pagesPerSlab = 1 << order;
    this.objsPerSlab = Math.floor((pageSize * this.pagesPerSlab) / objSize);
    this.maxSlots = Math.floor(pages / this.pagesPerSlab);
    this.slabPage = new Int32Array(0);
    this.inuse = new Int32Array(0);
    this.freeHead = new Int32Array(0);
    this.next = new Int32Array(0);
    this.prev = new Int32Array(0);
    this.freeSlots = new Int32Array(0);
    this.objNext = new Int32Array(0);
    this.size = new Uint16Array(0);
    this.tag = new Uint8Array(0);
    this.seq = new Float64Array(0);
    this.owner = trackOwners ? new Uint16Array(0) : null;
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

  /** Doubling growth of the metadata arrays; amortised O(1) per slab. */
  growSlots(): boolean {
    if (this.slotCap >= this.maxSlots) return false;
    const cap = Math.min(this.maxSlots, Math.max(4, this.slotCap * 2));
    const n = cap * this.objsPerSlab;
    this.slabPage = resized(this.slabPage, cap);
    this.inuse = resized(this.inuse, cap);
    this.freeHead = resized(this.freeHead, cap);
    this.next = resized(this.next, cap);
    this.prev = resized(this.prev, cap);
    this.freeSlots = resized(this.freeSlots, cap);
    this.objNext = resized(this.objNext, n);
    this.size = resized(this.size, n);
    this.tag = resized(this.tag, n);
    this.seq = resized(this.seq, n);
    if (this.owner) this.owner = resized(this.owner, n);
    this.slotCap = cap;
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
  /** class + 1 for every page of a live slab, 0 elsewhere. */
  readonly pageClass: Uint8Array;
  /** slab slot of every page of a live slab (stale elsewhere). */
  readonly pageSlot: Int32Array;
  /** Out-parameters of locate(): class and slot of the object found. */
  cls = 0;
  slot = 0;

  private readonly buddy: BuddyAllocator;
  private readonly base: number;
  private readonly pageSize: number;
  private readonly shift: number;
  private readonly limit: number;

  constructor(buddy: BuddyAllocator, base: number, pageSize: number, trackOwners: boolean) {
    this.buddy = buddy;
    this.base = base;
    this.pageSize = pageSize;
    this.shift = 31 - Math.clz32(pageSize);
    this.limit = buddy.pages * pageSize;
    this.pageClass = new Uint8Array(buddy.pages);
    this.pageSlot = new Int32Array(buddy.pages);
    this.caches = SIZE_CLASSES.map((size, i) => new SlabCache(i, size, pageSize, buddy.pages, trackOwners));
  }

  /** Address of a new object of class c carrying the given metadata, or 0. */
  alloc(c: number, size: number, tag: number, seq: number, owner: number): number {
    const k = this.caches[c]!;
    let s = k.partial;
    if (s === NIL) {
      s = this.grow(k);
      if (s === NIL) return 0;
    }
    const i = k.freeHead[s]!;
    const ops = k.objsPerSlab;
    const m = s * ops + i;
    k.freeHead[s] = k.objNext[m]!;
    if (++k.inuse[s]! === ops) k.unlinkPartial(s);
    k.size[m] = size;
    k.tag[m] = tag;
    k.seq[m] = seq;
    if (k.owner !== null) k.owner[m] = owner;
    return this.base + k.slabPage[s]! * this.pageSize + i * k.objSize;
  }

  /**
   * Metadata index of the live object that starts exactly at ptr, or -1 (not
   * in a slab, inside an object, or already free). Sets cls and slot.
   */
  locate(ptr: number): number {
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
    if (i * sz !== o || i >= k.objsPerSlab) return NIL;
    const m = s * k.objsPerSlab + i;
    if (k.tag[m] === 0) return NIL;
    this.cls = cp - 1;
    this.slot = s;
    return m;
  }

  /** Frees object m (as found by locate) of slot s in class c. */
  release(c: number, s: number, m: number): void {
    const k = this.caches[c]!;
    const ops = k.objsPerSlab;
    k.tag[m] = 0;
    k.objNext[m] = k.freeHead[s]!;
    k.freeHead[s] = m - s * ops;
    const n = k.inuse[s]!;
    k.inuse[s] = n - 1;
    if (n === ops) k.pushPartial(s);
    if (n === 1) this.emptied(k, s);
  }

  /** Gives every cached empty slab back to the buddy allocator; returns pages freed. */
  shrink(): number {
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
    for (const k of this.caches) {
      const ops = k.objsPerSlab;
      for (let s = 0; s < k.slotHigh; s++) {
        const page = k.slabPage[s]!;
        if (page === NIL || k.inuse[s] === 0) continue;
        const addr = this.base + page * this.pageSize;
        for (let i = 0, m = s * ops; i < ops; i++, m++) {
          if (k.tag[m] !== 0) fn(addr + i * k.objSize, k, m);
        }
      }
    }
  }

  /** Throws on the first inconsistency between lists, counters and tags (tests). */
  checkInvariants(): void {
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
        let live = 0;
        for (let i = 0; i < ops; i++) if (k.tag[s * ops + i] !== 0) live++;
        let free = 0;
        for (let i = k.freeHead[s]!; i !== NIL; i = k.objNext[s * ops + i]!) {
          if (k.tag[s * ops + i] !== 0) throw new Error(`${k.name}: live object ${i} on free list of slab ${s}`);
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
    if (page === NIL) return NIL;
    if (k.freeSlotCount > 0) {
      s = k.freeSlots[--k.freeSlotCount]!;
    } else {
      if (k.slotHigh === k.slotCap && !k.growSlots()) {
        this.buddy.free(page);
        return NIL;
      }
      s = k.slotHigh++;
    }
    const ops = k.objsPerSlab;
    const m0 = s * ops;
    for (let i = 0; i < ops; i++) {
      k.objNext[m0 + i] = i + 1;
      k.tag[m0 + i] = 0;
    }
    k.objNext[m0 + ops - 1] = NIL;
    k.slabPage[s] = page;
    k.inuse[s] = 0;
    k.freeHead[s] = 0;
    for (let q = page; q < page + k.pagesPerSlab; q++) {
      this.pageClass[q] = k.index + 1;
      this.pageSlot[q] = s;
    }
    k.slabs++;
    k.pushPartial(s);
    return s;
  }

  /** Slab s of k just became empty: keep it as the class's spare or free it. */
  private emptied(k: SlabCache, s: number): void {
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
