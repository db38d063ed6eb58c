/*
 * Moving strings and bytes between JavaScript and the Lua stack.
 *
 * One transfer buffer per image (kernel memory from the image's malloc, not the Lua
 * state's pool) carries bytes in; Lua copies them into its own strings at once, so the
 * buffer is free again before anything else can run. Reads go the other way through a
 * view over Lua's own string bytes, valid only until the next call into Lua.
 */
import type { LuaImage } from './instance.js';

const decoder = new TextDecoder();

/*
 * A caller's Uint8Array is read only through the intrinsic %TypedArray% getters: an own
 * `length`, `subarray` or `set` property, a Proxy, or an object that merely inherits from
 * Uint8Array.prototype must not make us read past the array (stale bytes of an earlier
 * call), throw, or run the caller's code in the middle of a call.
 */
const typedArrayPrototype = Object.getPrototypeOf(Uint8Array.prototype) as object;
const intrinsicGetter = (key: PropertyKey) => Object.getOwnPropertyDescriptor(typedArrayPrototype, key)!.get!;
const tagOf = intrinsicGetter(Symbol.toStringTag);
const bufferOf = intrinsicGetter('buffer');
const byteOffsetOf = intrinsicGetter('byteOffset');
const lengthOf = intrinsicGetter('length');

/** The length of a genuine Uint8Array (a Buffer is one), or -1 for anything else; never throws. */
export function uint8Length(x: unknown): number {
  return tagOf.call(x) === 'Uint8Array' ? lengthOf.call(x) as number : -1;
}

/**
 * A fresh view of the first `length` bytes (default: all) of a genuine Uint8Array, or null
 * for anything else or a length beyond it; never throws.
 */
export function uint8View(x: unknown, length?: number): Uint8Array | null {
  const total = uint8Length(x);
  const size = length ?? total;
  if (total < 0 || size > total) return null;
  // A detached (or out-of-bounds) array has length 0, and no view of its buffer can be made.
  if (size === 0) return new Uint8Array(0);
  return new Uint8Array(bufferOf.call(x) as ArrayBufferLike, byteOffsetOf.call(x) as number, size);
}

export class LuaStrings {
  private transfer = 0;
  private transferSize = 0;
  /**
   * Where transfer space comes from instead of the image's malloc, when set: the kernel
   * points it at its page pool's scratch area (src/sandbox/machine.ts says why).
   */
  scratch: ((size: number) => number) | null = null;
  /** A 4-byte out-parameter slot (size_t *len, int *isnum). */
  readonly outSlot: number;

  constructor(readonly image: LuaImage) {
    this.outSlot = image.api.malloc(8);
    if (this.outSlot === 0) throw new RangeError('the Lua image has no memory for its transfer slot');
  }

  /** Address of at least `size` bytes of the transfer buffer, or 0 if the image cannot provide them. */
  reserve(size: number): number {
    if (this.scratch !== null) return this.scratch(size);
    if (size > this.transferSize) {
      const want = Math.max(size, 256, this.transferSize * 2);
      const ptr = this.image.api.realloc(this.transfer, want);
      if (ptr === 0) return 0;
      this.transfer = ptr;
      this.transferSize = want;
    }
    return this.transfer;
  }

  /**
   * Copies the first `length` bytes (default: all) of `bytes`, which may be a caller's
   * array, into the transfer buffer; returns its address, or 0 when out of memory.
   */
  copyIn(bytes: Uint8Array, length?: number): number {
    const total = uint8Length(bytes);
    if (total < 0) throw new TypeError('copyIn: not a Uint8Array');
    const size = length ?? total;
    if (size > total) throw new RangeError(`copyIn: ${size} bytes asked of a ${total}-byte array`);
    const ptr = this.reserve(size + 1);
    if (ptr === 0) return 0;
    const heap = this.image.u8;
    // The heap's own `set` reads a genuine typed array through its internal slots only:
    // none of the caller's own properties run. A prefix needs a view (no species lookup).
    if (size > 0) heap.set(size === total ? bytes : uint8View(bytes, size)!, ptr);
    heap[ptr + size] = 0;
    return ptr;
  }

  /** UTF-8 encodes `s` straight into the transfer buffer; returns [address, byteLength]. */
  encodeIn(s: string): [number, number] {
    // A UTF-16 code unit never needs more than 3 UTF-8 bytes.
    const ptr = this.reserve(s.length * 3 + 1);
    if (ptr === 0) return [0, 0];
    const heap = this.image.u8;
    const written = heap.write(s, ptr, s.length * 3, 'utf8');
    heap[ptr + written] = 0;
    return [ptr, written];
  }

  pushString(L: number, s: string): void {
    const [ptr, len] = this.encodeIn(s);
    if (ptr === 0 && s.length > 0) throw new RangeError('the Lua image is out of transfer memory');
    this.image.api.lua_pushlstring(L, ptr, len);
  }

  pushBytes(L: number, bytes: Uint8Array): void {
    const ptr = this.copyIn(bytes);
    if (ptr === 0) throw new RangeError('the Lua image is out of transfer memory');
    this.image.api.lua_pushlstring(L, ptr, bytes.length);
  }

  /** A view of the string at `idx` (which must be a string: no conversion happens), or null. */
  viewAt(L: number, idx: number): Uint8Array | null {
    const ptr = this.image.api.lua_tolstring(L, idx, this.outSlot);
    if (ptr === 0) return null;
    const len = this.image.i32[this.outSlot >> 2]! >>> 0;
    return this.image.u8.subarray(ptr, ptr + len);
  }

  /** The string at `idx` decoded as UTF-8 (invalid sequences become U+FFFD). */
  stringAt(L: number, idx: number): string | null {
    const view = this.viewAt(L, idx);
    return view === null ? null : decoder.decode(view);
  }

  /** Raises a Lua error with `message`, prefixed by the position of the calling Lua code. */
  raise(L: number, message: string): never {
    const { api } = this.image;
    api.luaL_where(L, 1);
    this.pushString(L, message);
    api.lua_concat(L, 2);
    api.lua_error(L);
    throw new Error('unreachable: lua_error returned');
  }
}
