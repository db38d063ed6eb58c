/*
 * The kernel's own C functions, installed once per image: the safe replacements of
 * base-library functions (print, warn, load, collectgarbage, rawset), the read-only
 * guards of library tables, the panic handler and the C-level warning sink.
 *
 * They are kernel code, not bindings: they enforce the safety rules of DESIGN.md.
 */
import { installHostFunction } from '../../wasm/host-function.js';
import type { LuaImage } from '../../wasm/instance.js';
import { LUA_MULTRET, LUA_TFUNCTION, LUA_TNONE, LUA_TNIL, LUA_TTABLE, upvalueIndex } from '../../wasm/lua-api.js';
import type { LuaStrings } from '../../wasm/lua-strings.js';
import { ImagePanic } from '../../wasm/syscall-table.js';
import { SIG_LUA_WARNF } from '../../wasm/trampoline.js';
import { DEFAULT_MESSAGE_LEVEL, KERN_WARNING, type KernelLog } from './klog.js';

export interface KernelFunctions {
  print: number;
  warn: number;
  load: number;
  collectgarbage: number;
  rawset: number;
  readonlyNewindex: number;
  /** __pairs of a read-only proxy; upvalue 1 is its iterator, a readonlyNext closure. */
  readonlyPairs: number;
  /** next() over the real table in upvalue 1, whatever table it is called with. */
  readonlyNext: number;
  panic: number;
  warnf: number;
  /** coroutine.create/wrap that report each new thread (for the instruction budget). */
  newThread: number;
  /**
   * xpcall whose message handler is skipped once a limit is exceeded: Lua calls the
   * handler of an error raised in a hook with hooks off, so a looping handler could
   * otherwise never be stopped.
   */
  xpcall: number;
  /** Runs `fn` in protected mode on L with the top `nargs` values as its stack (an error becomes the returned status). */
  protect(L: number, fn: (L: number) => void, nargs?: number): number;
}

const decoder = new TextDecoder();

export interface LimitHooks {
  onNewThread(): void;
  limitExceeded(): boolean;
}

export function installKernelFunctions(image: LuaImage, strings: LuaStrings, log: KernelLog, limits: LimitHooks): KernelFunctions {
  const { api } = image;
  const install = (fn: (L: number) => number) => installHostFunction(image, strings, fn);

  /** Arguments 1..n through tostring, as Lua's print does. */
  const joinArgs = (L: number, separator: string, check: boolean): string => {
    const n = api.lua_gettop(L);
    let text = '';
    for (let i = 1; i <= n; i++) {
      const ptr = check ? api.luaL_checklstring(L, i, strings.outSlot) : api.luaL_tolstring(L, i, strings.outSlot);
      const len = image.i32[strings.outSlot >> 2]! >>> 0;
      if (i > 1) text += separator;
      text += decoder.decode(image.u8.subarray(ptr, ptr + len));
      if (!check) api.lua_settop(L, -2);
    }
    return text;
  };

  /** Calls the original function in upvalue 1 with this call's arguments; returns all its results. */
  const callOriginal = (L: number): number => {
    api.lua_pushvalue(L, upvalueIndex(1));
    api.lua_rotate(L, 1, 1);
    api.lua_callk(L, api.lua_gettop(L) - 1, LUA_MULTRET, 0, 0);
    return api.lua_gettop(L);
  };

  // Lua keeps the handler's first result (nil if none), as it does for the original handler.
  const guardedHandler = install((L) => (limits.limitExceeded() ? 1 : callOriginal(L)));

  let pendingWarning = '';
  let protectedBody: ((L: number) => void) | null = null;
  const runProtected = install((L) => {
    const body = protectedBody!;
    protectedBody = null;
    body(L);
    return 0;
  });

  return {
    print: install((L) => {
      log.write(DEFAULT_MESSAGE_LEVEL, joinArgs(L, '\t', false));
      return 0;
    }),

    warn: install((L) => {
      api.luaL_checklstring(L, 1, strings.outSlot);
      const text = joinArgs(L, '', true);
      // A single piece starting with '@' is a control message ("@on", "@off"): nothing to log.
      if (!(api.lua_gettop(L) === 1 && text.startsWith('@'))) log.write(KERN_WARNING, `Lua warning: ${text}`);
      return 0;
    }),

    // Text only, whatever mode the script asks for: binary chunks bypass the verifier-less VM's checks.
    load: install((L) => {
      if (api.lua_gettop(L) < 3) api.lua_settop(L, 3);
      api.lua_pushstring(L, image.cstring('t'));
      api.lua_copy(L, -1, 3);
      api.lua_settop(L, -2);
      return callOriginal(L);
    }),

    collectgarbage: install((L) => {
      const type = api.lua_type(L, 1);
      const option = type === LUA_TNONE || type === LUA_TNIL ? 'collect' : strings.stringAt(L, 1) ?? '?';
      if (option !== 'count') strings.raise(L, `collectgarbage: option '${option}' is not allowed (only "count")`);
      api.lua_settop(L, 1);
      return callOriginal(L);
    }),

    // Upvalue 2 is the set of read-only tables: rawset would otherwise bypass their __newindex.
    rawset: install((L) => {
      if (api.lua_type(L, 1) === LUA_TTABLE) {
        api.lua_pushvalue(L, upvalueIndex(2));
        api.lua_pushvalue(L, 1);
        api.lua_rawget(L, -2);
        const readonly = api.lua_toboolean(L, -1);
        api.lua_settop(L, -3);
        if (readonly) strings.raise(L, 'attempt to modify a read-only table');
      }
      return callOriginal(L);
    }),

    readonlyNewindex: install((L) => strings.raise(L, 'attempt to modify a read-only table')),

    // __pairs of a library proxy: the iterator walks the real table, which is its upvalue and
    // never a value handed to the script (returning `next, real` would give the table away).
    readonlyPairs: install((L) => {
      api.lua_pushvalue(L, upvalueIndex(1));
      api.lua_pushvalue(L, 1);
      api.lua_pushnil(L);
      return 3;
    }),

    readonlyNext: install((L) => {
      api.lua_settop(L, 2);
      api.lua_pushvalue(L, upvalueIndex(1));
      api.lua_rotate(L, 2, 1); // the real table below the key, which lua_next pops
      if (api.lua_next(L, 2) !== 0) return 2;
      api.lua_pushnil(L);
      return 1;
    }),

    newThread: install((L) => {
      const results = callOriginal(L);
      limits.onNewThread();
      return results;
    }),

    xpcall: install((L) => {
      api.luaL_checktype(L, 2, LUA_TFUNCTION);
      api.lua_pushvalue(L, 2);
      api.lua_pushcclosure(L, guardedHandler, 1);
      api.lua_copy(L, -1, 2);
      api.lua_settop(L, -2);
      return callOriginal(L);
    }),

    panic: install((L) => {
      throw new ImagePanic(`Lua panic: ${strings.stringAt(L, -1) ?? 'unprotected error'}`);
    }),

    // lua_WarnFunction: Lua's own warnings (e.g. an error in a __gc metamethod), in pieces.
    warnf: image.functions.install(SIG_LUA_WARNF, (_ud: number, msg: number, tocont: number) => {
      pendingWarning += image.readCString(msg);
      if (tocont) return;
      if (!pendingWarning.startsWith('@')) log.write(KERN_WARNING, `Lua warning: ${pendingWarning}`);
      pendingWarning = '';
    }),

    protect(L: number, fn: (L: number) => void, nargs = 0): number {
      protectedBody = fn;
      api.lua_pushcclosure(L, runProtected, 0);
      if (nargs > 0) api.lua_rotate(L, -1 - nargs, 1);
      return api.lua_pcallk(L, nargs, 0, 0, 0, 0);
    },
  };
}
