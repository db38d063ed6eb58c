/*
 * A JavaScript function as a lua_CFunction.
 *
 * Lua errors travel as Emscripten longjmps (a thrown `Infinity`), which must pass through
 * untouched. Any other exception from host code is turned into a Lua error here, so a
 * JavaScript exception never unwinds through Lua frames. The exceptions that mean the
 * image itself is broken (a trap, a panic, a JS stack overflow, which may have cut
 * through Wasm frames) keep propagating: the kernel discards that instance.
 */
import type { LuaImage } from './instance.js';
import type { LuaStrings } from './lua-strings.js';
import { ImagePanic } from './syscall-table.js';
import { SIG_LUA_CFUNCTION, wasmFunction } from './trampoline.js';

export type HostCFunction = (L: number) => number;

/** True for exceptions after which the image's state cannot be trusted. */
export function isFatal(e: unknown): boolean {
  return e instanceof ImagePanic || e instanceof WebAssembly.RuntimeError || e instanceof RangeError && /call stack/.test(e.message);
}

export function errorMessage(e: unknown): string {
  if (e instanceof Error) return e.message;
  return String(e);
}

/** `fn` as a Wasm lua_CFunction, not yet in the table. */
export function hostFunctionRef(strings: LuaStrings, fn: HostCFunction): WebAssembly.ExportValue {
  return wasmFunction(SIG_LUA_CFUNCTION, (L: number): number => {
    let message: string;
    try {
      return fn(L);
    } catch (e) {
      if (e === Infinity || isFatal(e)) throw e;
      message = errorMessage(e);
    }
    return strings.raise(L, message);
  });
}

/** Installs `fn` in the image's function table; returns the function pointer for lua_pushcclosure. */
export function installHostFunction(image: LuaImage, strings: LuaStrings, fn: HostCFunction): number {
  return image.functions.place(hostFunctionRef(strings, fn));
}
