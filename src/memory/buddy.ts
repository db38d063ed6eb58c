/*
 * Buddy page allocator (the mm/page_alloc.c of the pool).
 *
 * Pages are numbered 0..pages-1 relative to the start of the region; the
 * caller turns a page number into an address. A block of order o is 2^o
 * pages whose first page number is a multiple of 2^o, so the buddy of the
 * block at p is p ^ 2^o and merging needs no search.
 *
 * Invariants (checkInvariants() verifies all of them):
 *  - Every page belongs to exactly one block, free or used. Only the head
 *    (first page) of a block carries state: state[head] is FREE or USED and
 *    order[head] its order; every other page is INNER.
 *  - A free block is on exactly one list, the one of its order; lists are
 *    doubly linked through next/prev so a buddy leaves its list in O(1)
 *    when it merges.
 *  - Two free buddies of the same order never coexist: free() merges them
 *    at once. Hence, when every page is free, the blocks are exactly the
 *    maximal aligned blocks that reset() carves, whatever the history.
 *  - `pages` need not be a power of two: reset() carves the region into
 *    maximal aligned blocks (at most MAX_ORDER) from the left, and a buddy
 *    that would reach past the end is never considered.
 *  - Bit o of `mask` is set iff the order-o list is non-empty, so alloc()
 *    finds the smallest sufficient order with one bit trick, not a loop.
 *
 * All bookkeeping lives in typed arrays owned by JavaScript, never in the
 * memory being managed: a wild write from the Lua C code cannot corrupt it.
 */

export const MAX_ORDER = 10;

const NIL = -1;
const INNER = 0;
const FREE = 1;
const USED = 2;
const ALL_ORDERS = (1 << (MAX_ORDER + 1)) - 1;

export class BuddyAllocator {
  /** Pages managed now; grow() adds more at the end. */
  pages: number;
  private state: Uint8Array;
  private order: Uint8Array;
  private next: Int32Array;
  private prev: Int32Array;
  private readonly head = new Int32Array(MAX_ORDER + 1);
  private readonly count = new Int32Array(MAX_ORDER + 1);
  private mask = 0;
  private nfree = 0;

  constructor(pages: number) {
    if (!Number.isInteger(pages) || pages <= 0 || pages > 0x7fffffff) {
      throw new RangeError(`BuddyAllocator: pages must be a positive integer, got ${pages}`);
    }
    this.pages = pages;
    this.state = new Uint8Array(pages);
    this.order = new Uint8Array(pages);
    this.next = new Int32Array(pages);
    this.prev = new Int32Array(pages);
    this.reset();
  }

  get freePages(): number {
    return this.nfree;
  }

  /**
   * Adds the pages [pages, newPages) at the end, free, merged with free buddies as if
   * they had always been there. The arrays grow by doubling, so a pool committed page by
   * page costs O(pages) in all.
   */
  grow(newPages: number): void {
    if (!(Number.isInteger(newPages) && newPages > this.pages && newPages <= 0x7fffffff)) {
      throw new RangeError(`BuddyAllocator.grow: ${newPages} pages is not more than ${this.pages}`);
    }
    if (newPages > this.state.length) {
      const cap = Math.max(newPages, this.state.length * 2);
      this.state = grown(this.state, new Uint8Array(cap));
      this.order = grown(this.order, new Uint8Array(cap));
      this.next = grown(this.next, new Int32Array(cap));
      this.prev = grown(this.prev, new Int32Array(cap));
    }
    const old = this.pages;
    this.pages = newPages;
    forEachAlignedBlock(old, newPages, (x, k) => {
      this.state[x] = USED;
      this.order[x] = k;
      this.free(x);
    });
  }

  /** Everything free again, carved into maximal aligned blocks; O(pages). */
  reset(): void {
    this.state.fill(INNER);
    this.head.fill(NIL);
    this.count.fill(0);
    this.mask = 0;
    const pages = this.pages;
    let p = 0;
    while (p < pages) {
      let o = MAX_ORDER;
      while (o > 0 && ((p & ((1 << o) - 1)) !== 0 || p + (1 << o) > pages)) o--;
      this.push(p, o);
      p += 1 << o;
    }
    this.nfree = pages;
  }

  /** First page of a new block of 2^order pages, or -1. */
  alloc(order: number): number {
    if (order < 0 || order > MAX_ORDER) return NIL;
    const avail = this.mask & ALL_ORDERS & ~((1 << order) - 1);
    if (avail === 0) return NIL;
    const o = 31 - Math.clz32(avail & -avail);
    const p = this.head[o]!;
    this.takeDown(p, o, order);
    return p;
  }

  /**
   * Unlinks the free block of order o at p and splits it down to `order`.
   * Split from the top: the upper halves go back, the lower half is kept, so
   * the block taken is the lowest-addressed piece (less scatter).
   */
  private takeDown(p: number, o: number, order: number): void {
    this.unlink(p, o);
    while (o > order) {
      o--;
      this.push(p + (1 << o), o);
    }
    this.state[p] = USED;
    this.order[p] = order;
    this.nfree -= 1 << order;
  }

  /**
   * Takes the free block headed at p and splits it down to 2^order pages at
   * p; used once to keep page 0 away from Lua when the region starts at
   * address 0 (a block there would be NULL). Returns false if p is not a
   * free head of at least that order.
   */
  claim(p: number, order: number): boolean {
    if (!(p >= 0 && p < this.pages) || this.state[p] !== FREE) return false;
    const o = this.order[p]!;
    if (order < 0 || order > o) return false;
    this.takeDown(p, o, order);
    return true;
  }

  /**
   * Frees the used block headed at p and merges it with free buddies.
   * Returns false (and changes nothing) when p is not the head of a used
   * block, so a bad pointer from the caller cannot break the lists.
   */
  free(p: number): boolean {
    if (!(p >= 0 && p < this.pages) || this.state[p] !== USED) return false;
    let o = this.order[p];
    this.state[p] = INNER;
    this.nfree += 1 << o;
    while (o < MAX_ORDER) {
      const b = p ^ (1 << o);
      if (b >= this.pages || this.state[b] !== FREE || this.order[b] !== o) break;
      this.unlink(b, o);
      this.state[b] = INNER;
      p &= b;
      o++;
    }
    this.push(p, o);
    return true;
  }

  /**
   * First page of the lowest run of n consecutive free pages, or -1 (first fit).
   * Walks block heads, so it costs one step per block below the run. Large blocks
   * use it instead of alloc(order) so they occupy their exact page count: a
   * power-of-two block would waste up to half of itself, and its trimmed tail would
   * sit between used blocks where the next block of the same size does not fit.
   */
  findFreeRun(n: number): number {
    if (!(n > 0 && n <= this.nfree)) return NIL;
    let run = 0;
    let start = 0;
    for (let p = 0; p < this.pages; ) {
      const len = 1 << this.order[p]!;
      if (this.state[p] === FREE) {
        if (run === 0) start = p;
        run += len;
        if (run >= n) return start;
      } else {
        run = 0;
      }
      p += len;
    }
    return NIL;
  }

  /** Free pages at the very end (the run a block placed last can extend into). */
  trailingFreePages(): number {
    let n = 0;
    for (let p = this.pages - 1; p >= 0; ) {
      let h = p;
      for (let o = 0; o <= MAX_ORDER; o++) {
        h = p & ~((1 << o) - 1);
        if (this.state[h] !== INNER && h + (1 << this.order[h]!) > p) break;
      }
      if (this.state[h] !== FREE) break;
      n += p - h + 1;
      p = h - 1;
    }
    return n;
  }

  /** True iff the n pages from q, a block boundary, are all free. */
  isFreeRun(q: number, n: number): boolean {
    const end = q + n;
    if (!(q >= 0 && end <= this.pages)) return false;
    for (let p = q; p < end; p += 1 << this.order[p]!) {
      if (this.state[p] !== FREE) return false;
    }
    return true;
  }

  /**
   * Takes the free pages [q, q + n) (isFreeRun must hold) as used blocks: the maximal
   * aligned blocks of that range, each split out of the free block that holds it. A
   * range is freed block by block (freeRange), so no notion of ranges is stored.
   */
  takeRange(q: number, n: number): void {
    forEachAlignedBlock(q, q + n, (x, k) => {
      let o = k;
      let h = x;
      while (!(this.state[h] === FREE && this.order[h] === o)) h = x & ~((1 << ++o) - 1);
      this.unlink(h, o);
      while (o > k) {
        o--;
        const half = 1 << o;
        if (x >= h + half) {
          this.push(h, o);
          h += half;
        } else {
          this.push(h + half, o);
        }
      }
      this.state[x] = USED;
      this.order[x] = k;
      this.nfree -= 1 << k;
    });
  }

  /** Frees the used blocks that tile [q, q + n) (from takeRange or alloc), merging each. */
  freeRange(q: number, n: number): void {
    this.trimRange(q, n, 0);
  }

  /**
   * Keeps the first `keep` pages of the used blocks tiling [q, q + n) and frees the
   * rest; a block that straddles the cut is split in place, so nothing moves.
   */
  trimRange(q: number, n: number, keep: number): void {
    const cut = q + keep;
    for (let x = q; x < q + n; ) {
      const o = this.order[x]!;
      const len = 1 << o;
      if (x >= cut) this.free(x);
      else if (x + len > cut) this.splitUsed(x, o, cut - x);
      x += len;
    }
  }

  /**
   * The used block at x of order o becomes used blocks over its first `keep` pages
   * and free ones over the rest. The free pieces never have a free buddy: each is the
   * upper half of a pair whose lower half holds the cut.
   */
  private splitUsed(x: number, o: number, keep: number): void {
    this.state[x] = INNER;
    forEachAlignedBlock(x, x + keep, (y, k) => {
      this.state[y] = USED;
      this.order[y] = k;
    });
    forEachAlignedBlock(x + keep, x + (1 << o), (y, k) => this.push(y, k));
    this.nfree += (1 << o) - keep;
  }

  isUsedHead(p: number): boolean {
    return p >= 0 && p < this.pages && this.state[p] === USED;
  }

  orderOf(p: number): number {
    return this.order[p];
  }

  /**
   * Free blocks per order 0..MAX_ORDER, as /proc/buddyinfo prints them. With `upTo`
   * above `pages`, as if the pages up to it (not committed yet) had been added free.
   */
  freeBlocksPerOrder(upTo = this.pages): number[] {
    if (upTo <= this.pages) return Array.from(this.count);
    // Blocks at the end merge with the pages to come: count them as grow() would leave them.
    const trailing = this.trailingFreePages();
    const counts = Array.from(this.count);
    forEachAlignedBlock(this.pages - trailing, this.pages, (_, k) => counts[k]!--);
    forEachAlignedBlock(this.pages - trailing, upTo, (_, k) => counts[k]!++);
    return counts;
  }

  /** Walks every structure and throws on the first inconsistency (tests). */
  checkInvariants(): void {
    let freeSum = 0;
    for (let o = 0; o <= MAX_ORDER; o++) {
      let n = 0;
      let prev = NIL;
      for (let p = this.head[o]; p !== NIL; p = this.next[p]) {
        if (this.state[p] !== FREE || this.order[p] !== o) throw new Error(`buddy: page ${p} on list ${o} is not a free order-${o} head`);
        if (this.prev[p] !== prev) throw new Error(`buddy: broken prev link at page ${p}`);
        if ((p & ((1 << o) - 1)) !== 0 || p + (1 << o) > this.pages) throw new Error(`buddy: misaligned block ${p}/${o}`);
        if (o < MAX_ORDER) {
          const b = p ^ (1 << o);
          if (b < this.pages && this.state[b] === FREE && this.order[b] === o) throw new Error(`buddy: unmerged buddies ${p} and ${b} at order ${o}`);
        }
        prev = p;
        n++;
        freeSum += 1 << o;
        if (n > this.pages) throw new Error(`buddy: cycle in list ${o}`);
      }
      if (n !== this.count[o]) throw new Error(`buddy: count[${o}] = ${this.count[o]}, list holds ${n}`);
      if (((this.mask >> o) & 1) !== (n > 0 ? 1 : 0)) throw new Error(`buddy: mask bit ${o} wrong`);
    }
    if (freeSum !== this.nfree) throw new Error(`buddy: nfree ${this.nfree} but lists hold ${freeSum}`);
    // Every page is covered by exactly one block.
    let p = 0;
    while (p < this.pages) {
      const s = this.state[p];
      if (s !== FREE && s !== USED) throw new Error(`buddy: page ${p} should head a block`);
      const len = 1 << this.order[p];
      for (let q = p; q < p + len; q++) {
        if (q >= this.pages) throw new Error(`buddy: block ${p} runs past the end`);
        if (q > p && this.state[q] !== INNER) throw new Error(`buddy: page ${q} inside block ${p} is a head`);
      }
      p += len;
    }
  }

  private push(p: number, o: number): void {
    const h = this.head[o];
    this.state[p] = FREE;
    this.order[p] = o;
    this.next[p] = h;
    this.prev[p] = NIL;
    if (h !== NIL) this.prev[h] = p;
    this.head[o] = p;
    this.count[o]++;
    this.mask |= 1 << o;
  }

  private unlink(p: number, o: number): void {
    const n = this.next[p];
    const pr = this.prev[p];
    if (pr !== NIL) this.next[pr] = n;
    else this.head[o] = n;
    if (n !== NIL) this.prev[n] = pr;
    if (--this.count[o] === 0) this.mask &= ~(1 << o);
  }
}

/** Calls fn(page, order) for the maximal aligned blocks (at most MAX_ORDER) tiling [a, b), left to right. */
function forEachAlignedBlock(a: number, b: number, fn: (page: number, order: number) => void): void {
  for (let x = a; x < b; ) {
    let k = x === 0 ? MAX_ORDER : Math.min(MAX_ORDER, 31 - Math.clz32(x & -x));
    while (x + (1 << k) > b) k--;
    fn(x, k);
    x += 1 << k;
  }
}

function grown<T extends Uint8Array | Int32Array>(from: T, to: T): T {
  to.set(from);
  return to;
}
