/*
 * Compiled chunks of a persistent state, by source text, as Redis caches scripts: a
 * service submits the same scripts again and again, and compiling is most of a small
 * call's cost.
 *
 * Re-running a chunk's main closure is the same as loading it again, with one exception:
 * a chunk that assigns `_ENV` changes its own upvalue, which the next run would see. So
 * sources that contain `_ENV` are never cached. Invariants: every ref held here is a
 * live registry reference to a Lua function; at most `capacity` of them; the least
 * recently used is dropped first (its ref is returned to the caller to unref). A source
 * is cached the second time it is seen, so a stream of distinct sources costs a look at
 * one slot of a small direct-mapped table (no allocation), not a registry reference made
 * and dropped on every call.
 */

const ENV_TOKEN = '_ENV';
/** Sources longer than this are compiled every time: keying them costs more than it saves. */
export const MAX_CACHED_SOURCE = 16 * 1024;
const SEEN_SLOTS = 256;

export class ChunkCache {
  private readonly refs = new Map<string, bigint>();
  /** The most recently used key. */
  private newest: string | null = null;
  /** Sources seen once, by a cheap hash; a collision only delays a source's caching. */
  private readonly seenOnce: (string | undefined)[] = new Array<string | undefined>(SEEN_SLOTS);

  constructor(readonly capacity = 64) {}

  /** The cache key for a source, or null when it must not be cached. */
  static key(source: string): string | null {
    return source.length <= MAX_CACHED_SOURCE && !source.includes(ENV_TOKEN) ? source : null;
  }

  get(key: string): bigint | undefined {
    const ref = this.refs.get(key);
    if (ref !== undefined && key !== this.newest) {
      // Map iteration order is insertion order: re-inserting marks it most recently used
      // (a source run again and again is already the newest, and stays in place).
      this.refs.delete(key);
      this.refs.set(key, ref);
      this.newest = key;
    }
    return ref;
  }

  /** True the second time (and after) a key is offered: worth compiling once and keeping. */
  wanted(key: string): boolean {
    const slot = (key.length * 31 + key.charCodeAt(key.length - 1) * 7 + key.charCodeAt(key.length >> 1)) & (SEEN_SLOTS - 1);
    if (this.seenOnce[slot] === key) return true;
    this.seenOnce[slot] = key;
    return false;
  }

  /** Adds a ref; returns the refs evicted to make room. */
  add(key: string, ref: bigint): bigint[] {
    const evicted: bigint[] = [];
    for (const [oldest, oldRef] of this.refs) {
      if (this.refs.size < this.capacity) break;
      this.refs.delete(oldest);
      evicted.push(oldRef);
    }
    this.refs.set(key, ref);
    this.newest = key;
    return evicted;
  }

  /** Empties the cache; returns every ref it held. */
  clear(): bigint[] {
    const all = [...this.refs.values()];
    this.refs.clear();
    this.newest = null;
    return all;
  }

  get size(): number {
    return this.refs.size;
  }
}
