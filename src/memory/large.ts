/*
 * Large blocks: requests above KMALLOC_MAX_SIZE get whole pages directly
 * (kmalloc_large), exactly ceil(size / pageSize) of them, so a block wastes
 * less than a page: a 64 MiB pool holds 63 strings of 1 MiB, not the 31 that
 * power-of-two blocks allowed (alloc_pages_exact, in Linux's words).
 *
 * A block of n pages is a run of consecutive used buddy blocks tiling
 * [page, page + n), placed first fit (BuddyAllocator.findFreeRun) so blocks
 * pack from the bottom and the free space stays in one piece; the buddy
 * allocator needs no notion of runs: a block is freed, trimmed or extended
 * piece by piece. Realloc to fewer pages gives back the tail in place (no
 * copy), to more pages first takes the free pages right after the block.
 *
 * Metadata lives at the head page's index in typed arrays; tag[head] != 0
 * iff a live large block starts there (cleared on free and by reset()), so
 * a pointer into the middle of a block or a double free is recognised.
 */

import type { BuddyAllocator } from './buddy.js';

const NIL = -1;

export class LargeAllocator {
  // Per page, indexed by a block's head page; grown with the committed pages (commitPages).
  tag: Uint8Array;
  size: Float64Array;
  seq: Float64Array;
  owner: Uint16Array | null;
  /** Pages of the block headed here. */
  footprint: Int32Array;
  blocks = 0;
  pagesHeld = 0;

  private readonly buddy: BuddyAllocator;
  private readonly reclaim: () => number;
  private readonly more: (pages: number) => boolean;
  private readonly base: number;
  private readonly pageSize: number;
  private readonly maxPages: number;
  private limit: number;
  private readonly shift: number;

  /**
   * Over the buddy allocator's committed pages, up to `maxPages`. `reclaim()` frees
   * cached slabs (pages freed), `more(n)` commits pages for a block of n (false: none).
   */
  constructor(buddy: BuddyAllocator, base: number, pageSize: number, maxPages: number, trackOwners: boolean, reclaim: () => number, more: (pages: number) => boolean) {
    const pages = buddy.pages;
    this.buddy = buddy;
    this.reclaim = reclaim;
    this.more = more;
    this.base = base;
    this.pageSize = pageSize;
    this.maxPages = maxPages;
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
    return np > this.maxPages ? 0 : Math.max(1, np);
  }

  /** The buddy allocator now has `pages` committed pages: metadata for them (arrays double). */
  commitPages(pages: number): void {
    this.limit = pages * this.pageSize;
    if (pages <= this.tag.length) return;
    const cap = Math.min(this.maxPages, Math.max(pages, this.tag.length * 2));
    this.tag = grown(this.tag, new Uint8Array(cap));
    this.size = grown(this.size, new Float64Array(cap));
    this.seq = grown(this.seq, new Float64Array(cap));
    if (this.owner !== null) this.owner = grown(this.owner, new Uint16Array(cap));
    this.footprint = grown(this.footprint, new Int32Array(cap));
  }

  /** Address of a new block of `fp` pages (footprintFor) with the given metadata, or 0. */
  alloc(fp: number, nsize: number, tag: number, seq: number, owner: number): number {
    if (fp === 0) return 0;
    const page = this.takePages(fp);
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
    this.buddy.freeRange(page, fp);
  }

  /** Gives back the tail of the block at page so it occupies fp (< current) pages. */
  shrinkInPlace(page: number, fp: number): void {
    const cur = this.footprint[page]!;
    if (fp >= cur) return;
    this.buddy.trimRange(page, cur, fp);
    this.footprint[page] = fp;
    this.pagesHeld -= cur - fp;
  }

  /** Extends the block at page to fp pages without moving it, if the pages after it are free. */
  growInPlace(page: number, fp: number): boolean {
    const cur = this.footprint[page]!;
    if (fp <= cur) return false;
    const end = page + fp;
    if (end > this.buddy.pages && !(end <= this.maxPages && this.more(end - this.buddy.pages))) return false;
    if (!this.buddy.isFreeRun(page + cur, fp - cur)) return false;
    this.buddy.takeRange(page + cur, fp - cur);
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

  /**
   * First page of fp free pages, now used (freed with buddy.freeRange): from the pages
   * committed, else after giving back cached slabs, else from newly committed ones; -1.
   */
  takePages(fp: number): number {
    let page = this.take(fp);
    if (page === NIL && this.reclaim() > 0) page = this.take(fp);
    if (page === NIL && this.more(fp - this.buddy.trailingFreePages())) page = this.take(fp);
    return page;
  }

  private take(fp: number): number {
    const page = this.buddy.findFreeRun(fp);
    if (page !== NIL) this.buddy.takeRange(page, fp);
    return page;
  }
}

function grown<T extends Uint8Array | Uint16Array | Int32Array | Float64Array>(from: T, to: T): T {
  to.set(from as never);
  return to;
}
