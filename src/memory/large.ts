/*
 * Large blocks: requests above KMALLOC_MAX_SIZE get buddy blocks directly
 * (kmalloc_large), order = ceil(log2(pages needed)).
 *
 * A request above one MAX_ORDER block (4 MiB with 4 KiB pages) gets a run
 * of consecutive MAX_ORDER blocks instead of failing: Linux would use
 * vmalloc, here the region is one flat range so a run is the same thing.
 * Each block of a run stays an ordinary used MAX_ORDER buddy block, freed
 * one by one, so the buddy allocator needs no notion of runs.
 *
 * A block is described by its footprint in pages, always either 2^order
 * (<= 2^MAX_ORDER) or n * 2^MAX_ORDER; footprints grow monotonically with
 * the size, so "same footprint" means realloc in place, "smaller" means
 * giving back the tail in place (split, or drop trailing run blocks) with
 * no copy, and "larger" first tries to absorb free upper buddies in place.
 *
 * Metadata lives at the head page's index in typed arrays; tag[head] != 0
 * iff a live large block starts there (cleared on free and by reset()), so
 * a pointer into the middle of a block or a double free is recognised.
 */

import { BuddyAllocator, MAX_ORDER } from './buddy.js';

const NIL = -1;
const MAX_BLOCK = 1 << MAX_ORDER;

export class LargeAllocator {
  readonly tag: Uint8Array;
  readonly size: Float64Array;
  readonly seq: Float64Array;
  readonly owner: Uint16Array | null;
  /** Pages of the block headed here (2^order or a multiple of 2^MAX_ORDER). */
  readonly footprint: Int32Array;
  blocks = 0;
  pagesHeld = 0;

  private readonly buddy: BuddyAllocator;
  private readonly reclaim: () => number;
  private readonly base: number;
  private readonly pageSize: number;
  private readonly limit: number;
  private readonly shift: number;

  constructor(buddy: BuddyAllocator, base: number, pageSize: number, trackOwners: boolean, reclaim: () => number) {
    const pages = buddy.pages;
    this.buddy = buddy;
    this.reclaim = reclaim;
    this.base = base;
    this.pageSize = pageSize;
    this.limit = pages * pageSize;
    this.shift = 31 - Math.clz32(pageSize);
    this.tag = new Uint8Array(pages);
    this.size = new Float64Array(pages);
    this.seq = new Float64Array(pages);
    this.owner = trackOwners ? new Uint16Array(pages) : null;
    this.footprint = new Int32Array(pages);
  }

  /** Pages a block for nsize bytes occupies, or 0 if it cannot fit the region at all. */
  footprintFor(nsize: number): number {
    const np = Math.ceil(nsize / this.pageSize);
    if (np > this.buddy.pages) return 0;
    if (np <= MAX_BLOCK) return np <= 1 ? 1 : 1 << (32 - Math.clz32(np - 1));
    return Math.ceil(np / MAX_BLOCK) * MAX_BLOCK;
  }

  /** Address of a new block of `fp` pages (footprintFor) with the given metadata, or 0. */
  alloc(fp: number, nsize: number, tag: number, seq: number, owner: number): number {
    if (fp === 0) return 0;
    let page = this.take(fp);
    if (page === NIL && this.reclaim() > 0) page = this.take(fp);
    if (page === NIL) return 0;
    this.tag[page] = tag;
    this.size[page] = nsize;
    this.seq[page] = seq;
    if (this.owner !== null) this.owner[page] = owner;
    this.footprint[page] = fp;
    this.blocks++;
    this.pagesHeld += fp;
    return this.base + page * this.pageSize;
  }

  /** Head page of the live block starting exactly at ptr, or -1. */
  locate(ptr: number): number {
    const off = ptr - this.base;
    if (off < 0 || off >= this.limit || (off & (this.pageSize - 1)) !== 0) return NIL;
    const p = off >>> this.shift;
    return this.tag[p] !== 0 ? p : NIL;
  }

  release(page: number): void {
    const fp = this.footprint[page]!;
    this.tag[page] = 0;
    this.blocks--;
    this.pagesHeld -= fp;
    if (fp <= MAX_BLOCK) {
      this.buddy.free(page);
    } else {
      for (let q = page; q < page + fp; q += MAX_BLOCK) this.buddy.free(q);
    }
  }

  /** Gives back the tail of the block at page so it occupies fp (< current) pages. */
  shrinkInPlace(page: number, fp: number): void {
    const cur = this.footprint[page]!;
    if (fp >= cur) return;
    if (cur > MAX_BLOCK) {
      const keep = Math.max(fp, MAX_BLOCK);
      for (let q = page + keep; q < page + cur; q += MAX_BLOCK) this.buddy.free(q);
    }
    if (fp < MAX_BLOCK) this.buddy.shrink(page, 31 - Math.clz32(fp));
    this.footprint[page] = fp;
    this.pagesHeld -= cur - fp;
  }

  /** Extends the block at page to fp pages without moving it, if its buddies are free. */
  growInPlace(page: number, fp: number): boolean {
    const cur = this.footprint[page]!;
    if (fp > MAX_BLOCK || fp <= cur || !this.buddy.grow(page, 31 - Math.clz32(fp))) return false;
    this.footprint[page] = fp;
    this.pagesHeld += fp - cur;
    return true;
  }

  reset(): void {
    this.tag.fill(0);
    this.blocks = 0;
    this.pagesHeld = 0;
  }

  forEachLive(fn: (address: number, page: number) => void): void {
    const pages = this.buddy.pages;
    for (let p = 0; p < pages; p++) {
      if (this.tag[p] !== 0) fn(this.base + p * this.pageSize, p);
    }
  }

  private take(fp: number): number {
    return fp <= MAX_BLOCK ? this.buddy.alloc(31 - Math.clz32(fp)) : this.buddy.allocRun(fp / MAX_BLOCK);
  }
}
