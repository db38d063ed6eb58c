/*
 * A JavaScript function as a lua_CFunction.
 *
 * Lua errors travel as Emscripten longjmps (a thrown LONGJMP), which must pass through
 * untouched. Any other exception from host code is turned into a Lua error here, so a
 * JavaScript exception never unwinds through Lua frames. The exceptions that mean the
 * image itself is broken (a trap, a panic, a JS stack overflow, which may have cut
 * through Wasm frames) keep propagating: the kernel discards that instance.
 */
import type { LuaImage } from './instance.js';
import type { LuaStrings } from './lua-strings.js';
import { ImagePanic, LONGJMP } from './syscall-table.js';
import { SIG_LUA_CFUNCTION, wasmFunction } from './trampoline.js';

export type HostCFunction = (L: number) => number;

/** V8's "Maximum call stack size exceeded": the host's own stack ran out. */
export function isHostStackOverflow(e: unknown): boolean {
  return e instanceof RangeError && /call stack/.test(e.message);
}

/** True for exceptions after which the image's state cannot be trusted. */
export function isFatal(e: unknown): boolean {
  return e instanceof ImagePanic || e instanceof WebAssembly.RuntimeError || isHostStackOverflow(e);
}

export function errorMessage(e: unknown): string {
  if (e instanceof Error) return e.message;
  return String(e);
}

/** `fn` as a Wasm lua_CFunction, not yet in the table. */
export function hostFunctionRef(strings: LuaStrings, fn: HostCFunction): WebAssembly.ExportValue {
  return wasmFunction(SIG_LUA_CFUNCTION, guardHostFunction(strings.image, (L, message) => strings.raise(L, message), fn));
}

/**
 * `fn` with what every host lua_CFunction needs: a thrown exception becomes a Lua error
 * (`raise`), longjmps and fatal errors pass, and the result count is checked against the
 * stack, since Lua trusts a C function's count without a check (a count above what was
 * pushed reads stale stack slots, or runs past the stack).
 */
export function guardHostFunction(image: LuaImage, raise: (L: number, message: string) => never, fn: HostCFunction): HostCFunction {
  const { api } = image;
  return (L) => {
    let message: string;
    try {
      const results = fn(L);
      if (results === 0) return 0;
      const top = api.lua_gettop(L);
      if (Number.isInteger(results) && results > 0 && results <= top) return results;
      message = `a host function returned ${String(results)} as its result count, with ${top} ${top === 1 ? 'value' : 'values'} on its stack`;
    } catch (e) {
      if (e === LONGJMP || isFatal(e)) throw e;
      message = describeThrown(e);
    }
    return raise(L, message);
  };
}

/** The message of anything a host function threw, without running more host code that could throw. */
function describeThrown(e: unknown): string {
  try {
    return errorMessage(e);
  } catch {
    return `a host function threw a value (${typeof e}) that cannot be described`;
  }
}

/** Installs `fn` in the image's function table; returns the function pointer for lua_pushcclosure. */
export function installHostFunction(image: LuaImage, strings: LuaStrings, fn: HostCFunction): number {
  return image.functions.place(hostFunctionRef(strings, fn));
}
