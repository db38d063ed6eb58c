/*
 * How the kernel calls script code in protected mode, with two options `lua` needs:
 *
 * - a traceback of a runtime error (`{ traceback: true }`): a message handler that records
 *   luaL_traceback at the point of the error, as lua.c's msghandler does. It leaves the
 *   error value untouched and keeps the traceback aside, so the errno of a call (which reads
 *   the message, e.g. "not enough memory") is the same with or without it. luaL_traceback
 *   runs in protected mode: if it fails (memory budget), there is no traceback, never an
 *   "error in error handling" in place of the script's own error.
 * - string arguments for the function (a script's `...`): pushed by a C trampoline inside
 *   the protected call, so that running out of memory while pushing them is an ordinary
 *   error of the call, never a panic. Like lua.c's own pmain, it shows in a traceback as
 *   the last line, `[C]: in ?`.
 */
import { installHostFunction } from '../../wasm/host-function.js';
import type { LuaImage } from '../../wasm/instance.js';
import { LUA_MULTRET, LUA_OK } from '../../wasm/lua-api.js';
import type { LuaStrings } from '../../wasm/lua-strings.js';

/** Levels of the stack inside the protected body: 0 the body, 1 the handler, 2 where the error was raised. */
const ERROR_LEVEL = 2;

export interface CallOptions {
  /** Record a traceback of a runtime error (read it with `takeTraceback`). */
  readonly traceback?: boolean;
  /** Strings passed to the function as its arguments (an empty list still calls through the trampoline, as lua.c does). */
  readonly args?: readonly string[];
}

export interface ProtectedCalls {
  /** Calls the function at the top of the stack (no arguments on the stack) like lua_pcallk(L, 0, nresults, ...). */
  call(L: number, nresults: number, options: CallOptions): number;
  /** The traceback of the last failed call made with `traceback` (`stack traceback:\n\t...`); cleared by reading. */
  takeTraceback(): string | undefined;
}

export function installProtectedCalls(
  image: LuaImage, strings: LuaStrings, protect: (L: number, fn: (L: number) => void) => number,
): ProtectedCalls {
  const { api } = image;
  let recorded: string | undefined;
  let pendingArgs: readonly string[] = [];
  const install = (fn: (L: number) => number) => installHostFunction(image, strings, fn);

  const handler = install((L) => {
    api.lua_settop(L, 1);
    const status = protect(L, (L) => {
      api.luaL_traceback(L, L, 0, ERROR_LEVEL);
      recorded = strings.stringAt(L, -1) ?? undefined;
    });
    if (status !== LUA_OK) recorded = undefined;
    api.lua_settop(L, 1);
    return 1;
  });

  // (f) -> f(...pendingArgs), all results.
  const withArgs = install((L) => {
    const args = pendingArgs;
    pendingArgs = [];
    api.luaL_checkstack(L, args.length, 0);
    for (const arg of args) strings.pushString(L, arg);
    api.lua_callk(L, args.length, LUA_MULTRET, 0, 0);
    return api.lua_gettop(L);
  });

  return {
    call(L, nresults, options) {
      recorded = undefined;
      const { traceback, args } = options;
      // sysLua's own call: nothing to add.
      if (traceback !== true && args === undefined) return api.lua_pcallk(L, 0, nresults, 0, 0, 0);
      let nargs = 0;
      if (args !== undefined) {
        pendingArgs = args;
        api.lua_pushcclosure(L, withArgs, 0);
        api.lua_rotate(L, -2, 1);
        nargs = 1;
      }
      if (traceback !== true) return api.lua_pcallk(L, nargs, nresults, 0, 0, 0);
      const base = api.lua_gettop(L) - nargs; // the called function's index
      api.lua_pushcclosure(L, handler, 0);
      api.lua_rotate(L, base, 1);
      const status = api.lua_pcallk(L, nargs, nresults, base, 0, 0);
      api.lua_rotate(L, base, -1); // the handler from below the results to the top
      api.lua_settop(L, -2);
      return status;
    },
    takeTraceback() {
      const text = recorded;
      recorded = undefined;
      return text;
    },
  };
}
