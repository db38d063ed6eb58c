/*
 * The optional traceback of a failed call (`{ traceback: true }`): a message handler that
 * records luaL_traceback at the point of the error, as lua.c's msghandler does.
 *
 * The handler leaves the error value untouched and keeps the traceback aside, so the
 * errno of a call (which reads the message, e.g. "not enough memory") is the same with or
 * without it. luaL_traceback runs in protected mode: if it fails (memory budget), there is
 * no traceback, never an "error in error handling" in place of the script's own error.
 *
 * Any protected call of the kernel (sysLua's chunk, eval, call) can use `protectedCall`.
 */
import { installHostFunction } from '../../wasm/host-function.js';
import type { LuaImage } from '../../wasm/instance.js';
import { LUA_OK } from '../../wasm/lua-api.js';
import type { LuaStrings } from '../../wasm/lua-strings.js';

/** Levels of the stack inside the protected body: 0 the body, 1 the handler, 2 where the error was raised. */
const ERROR_LEVEL = 2;

export interface MessageHandler {
  /** lua_pcallk, with the traceback recorder as message handler when `traceback` is set. */
  protectedCall(L: number, nargs: number, nresults: number, traceback: boolean): number;
  /** The traceback of the last failed call made with `traceback` (`stack traceback:\n\t...`); cleared by reading. */
  take(): string | undefined;
}

export function installMessageHandler(
  image: LuaImage, strings: LuaStrings, protect: (L: number, fn: (L: number) => void) => number,
): MessageHandler {
  const { api } = image;
  let recorded: string | undefined;
  const handler = installHostFunction(image, strings, (L) => {
    api.lua_settop(L, 1);
    const status = protect(L, (L) => {
      api.luaL_traceback(L, L, 0, ERROR_LEVEL);
      recorded = strings.stringAt(L, -1) ?? undefined;
    });
    if (status !== LUA_OK) recorded = undefined;
    api.lua_settop(L, 1);
    return 1;
  });
  return {
    protectedCall(L, nargs, nresults, traceback) {
      recorded = undefined;
      if (!traceback) return api.lua_pcallk(L, nargs, nresults, 0, 0, 0);
      const base = api.lua_gettop(L) - nargs; // the function's index
      api.lua_pushcclosure(L, handler, 0);
      api.lua_rotate(L, base, 1);
      const status = api.lua_pcallk(L, nargs, nresults, base, 0, 0);
      api.lua_rotate(L, base, -1); // the handler from below the results to the top
      api.lua_settop(L, -2);
      return status;
    },
    take() {
      const text = recorded;
      recorded = undefined;
      return text;
    },
  };
}
