/*
 * A lua_Alloc over the image's own malloc that counts live bytes and refuses past a
 * ceiling. It is the allocator of the state the benchmarks compare the page pool with,
 * and the simplest correct budget: used bytes never exceed `ceiling`.
 */

export interface ImageMalloc {
  realloc(ptr: number, size: number): number;
  free(ptr: number): void;
}

export class CountedAllocator {
  usedBytes = 0;
  peakBytes = 0;
  failedAllocations = 0;

  constructor(private readonly malloc: ImageMalloc, readonly ceiling: number) {}

  /** Lua's lua_Alloc contract: when ptr is 0, osize is the object's type tag, not a size. */
  luaAlloc(ptr: number, osize: number, nsize: number): number {
    const oldSize = ptr === 0 ? 0 : osize;
    if (nsize === 0) {
      if (ptr !== 0) this.malloc.free(ptr);
      this.usedBytes -= oldSize;
      return 0;
    }
    const used = this.usedBytes - oldSize + nsize;
    if (used > this.ceiling) {
      this.failedAllocations++;
      return 0;
    }
    const block = this.malloc.realloc(ptr, nsize);
    if (block === 0) {
      this.failedAllocations++;
      return 0;
    }
    this.usedBytes = used;
    if (used > this.peakBytes) this.peakBytes = used;
    return block;
  }
}
