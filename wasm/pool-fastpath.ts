/*
 * The page pool's lua_Alloc fast path (wasm/pool-fastpath.wat): compiled once per
 * process, instantiated per pool against the pools' memory and that pool's header. The pool
 * (src/memory/pool.ts) owns the memory's layout and supplies the JavaScript slow path
 * and the copy a moving realloc needs: wasm/pool-copy.wat over the image's memory, so a
 * Lua state's realloc never leaves Wasm, or a JavaScript copy over a plain heap view.
 */
import { POOL_COPY_WASM, POOL_FASTPATH_WASM } from './pool-fastpath.bytes.js';

/** lua_Alloc(ud, ptr, osize, nsize) -> ptr: an exported Wasm function, callable from JS too (returns a signed i32). */
export type LuaAllocFunction = ((ud: number, ptr: number, osize: number, nsize: number) => number) & WebAssembly.ExportValue;

export interface PoolFastPathHost {
  /** lua_Alloc(ptr, osize, nsize) in JavaScript: the whole contract, for every call the fast path does not serve. */
  slow(ptr: number, osize: number, nsize: number): number;
  /** The fast path has just emptied slab `slot` of size class `cls`. */
  emptied(cls: number, slot: number): void;
  /** memmove(dst, src, n) within the region: a JS function or imageCopyFunction(). */
  copy: ((dst: number, src: number, n: number) => void) | WebAssembly.ExportValue;
}

let compiled: WebAssembly.Module | undefined;
let compiledCopy: WebAssembly.Module | undefined;
const copiers = new WeakMap<WebAssembly.Memory, WebAssembly.ExportValue>();

export function poolFastPathModule(): WebAssembly.Module {
  compiled ??= new WebAssembly.Module(POOL_FASTPATH_WASM);
  return compiled;
}

export function poolCopyModule(): WebAssembly.Module {
  compiledCopy ??= new WebAssembly.Module(POOL_COPY_WASM);
  return compiledCopy;
}

/** The `alloc` export of a new instance over `memory` (the pools' own), for the pool whose header is at `header`. */
export function instantiatePoolFastPath(memory: WebAssembly.Memory, header: number, host: PoolFastPathHost): LuaAllocFunction {
  const instance = new WebAssembly.Instance(poolFastPathModule(), {
    pool: { memory, header, slow: host.slow, emptied: host.emptied, copy: host.copy },
  });
  return instance.exports['alloc'] as LuaAllocFunction;
}

/** memmove(dst, src, n) over an image's memory as a Wasm function (one instance per memory). */
export function imageCopyFunction(imageMemory: WebAssembly.Memory): WebAssembly.ExportValue {
  let copy = copiers.get(imageMemory);
  if (copy === undefined) {
    copy = new WebAssembly.Instance(poolCopyModule(), { image: { memory: imageMemory } }).exports['copy']!;
    copiers.set(imageMemory, copy);
  }
  return copy;
}
