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
  readonly pages: number;
  private readonly state: Uint8Array;
  private readonly order: Uint8Array;
  private readonly next: Int32Array;
  private readonly prev: Int32Array;
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
   * Shrinks the used block at p to 2^newOrder pages in place by giving back
   * its upper halves. They cannot merge: each one's buddy is the part still
   * in use, so no merge loop is needed.
   */
  shrink(p: number, newOrder: number): boolean {
    if (!(p >= 0 && p < this.pages) || this.state[p] !== USED) return false;
    let o = this.order[p];
    if (newOrder < 0 || newOrder > o) return false;
    this.order[p] = newOrder;
    while (o > newOrder) {
      o--;
      this.push(p + (1 << o), o);
      this.nfree += 1 << o;
    }
    return true;
  }

  /**
   * Grows the used block at p to 2^newOrder pages in place, if p is the
   * lower buddy at every step and each upper buddy is free and whole.
   * Lua grows tables and buffers by doubling, which is exactly one buddy,
   * so this saves the copy and the moment when both blocks are held.
   */
  grow(p: number, newOrder: number): boolean {
    if (!(p >= 0 && p < this.pages) || this.state[p] !== USED || newOrder > MAX_ORDER) return false;
    const cur = this.order[p];
    if (newOrder <= cur || (p & ((1 << newOrder) - 1)) !== 0 || p + (1 << newOrder) > this.pages) return false;
    for (let o = cur; o < newOrder; o++) {
      const b = p + (1 << o);
      if (this.state[b] !== FREE || this.order[b] !== o) return false;
    }
    for (let o = cur; o < newOrder; o++) {
      const b = p + (1 << o);
      this.unlink(b, o);
      this.state[b] = INNER;
      this.nfree -= 1 << o;
    }
    this.order[p] = newOrder;
    return true;
  }

  /**
   * n physically consecutive MAX_ORDER blocks, for requests larger than one
   * maximal block (vmalloc's job in Linux, done here because the region is
   * one flat range). Each block stays a separate used MAX_ORDER block, so
   * the caller frees them one by one. O(pages / 2^MAX_ORDER).
   */
  allocRun(n: number): number {
    if (!Number.isInteger(n) || n <= 0) return NIL;
    if (n === 1) return this.alloc(MAX_ORDER);
    const size = 1 << MAX_ORDER;
    let run = 0;
    for (let p = 0; p + size <= this.pages; p += size) {
      if (this.state[p] === FREE && this.order[p] === MAX_ORDER) {
        if (++run === n) {
          const first = p - (n - 1) * size;
          for (let q = first; q <= p; q += size) {
            this.unlink(q, MAX_ORDER);
            this.state[q] = USED;
          }
          this.nfree -= n * size;
          return first;
        }
      } else {
        run = 0;
      }
    }
    return NIL;
  }

  isUsedHead(p: number): boolean {
    return p >= 0 && p < this.pages && this.state[p] === USED;
  }

  orderOf(p: number): number {
    return this.order[p];
  }

  /** Free blocks per order 0..MAX_ORDER, as /proc/buddyinfo prints them. */
  freeBlocksPerOrder(): number[] {
    return Array.from(this.count);
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
