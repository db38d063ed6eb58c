/*
 * A sandboxed lua_State: the safe library set of DESIGN.md, built with C API calls
 * (not a Lua prelude) so a fresh state for `isolate` mode costs microseconds.
 *
 * After setup: the globals are exactly the base library minus dofile/loadfile, with
 * load/collectgarbage/rawset/print/warn replaced, plus coroutine, table, string, math and
 * utf8 as read-only proxies. Their real tables are reachable only as the proxies' __index,
 * as the upvalue of their __pairs iterator, and as the string metatable's __index, all
 * behind __metatable = false: no value a script can get (from pairs, next, rawget,
 * select, error values) is ever a real library table.
 */
import type { LuaImage } from '../../wasm/instance.js';
import { LUA_OK, LUA_REGISTRYINDEX } from '../../wasm/lua-api.js';
import type { KernelFunctions } from './kernel-functions.js';

export const LIBRARIES = ['coroutine', 'table', 'string', 'math', 'utf8'] as const;
const REMOVED_GLOBALS = ['dofile', 'loadfile'];
const READONLY_SET = 'lunatik.readonly';
/** The base library's collectgarbage, for the kernel's own full collections. */
export const ORIGINAL_COLLECTGARBAGE = 'lunatik.collectgarbage';

/** The budget cannot hold a new state with its libraries: the caller's call gets -ENOMEM. */
export class StateMemoryError extends RangeError {
  override name = 'StateMemoryError';
}

/**
 * A new sandboxed state; `setup` then runs in protected mode on it (modules), so running
 * out of memory anywhere here is a clean StateMemoryError, never a Lua panic.
 */
export function openState(image: LuaImage, allocFn: number, fns: KernelFunctions, limited: boolean, setup: (L: number) => void): number {
  const { api } = image;
  const L = api.lua_newstate(allocFn, 0);
  if (L === 0) throw new StateMemoryError('not enough memory to create a Lua state');
  api.lua_atpanic(L, fns.panic);
  api.lua_setwarnf(L, fns.warnf, 0);
  const status = fns.protect(L, (L) => {
    openLibraries(image, L, fns, limited);
    setup(L);
  });
  if (status !== LUA_OK) {
    api.lua_close(L);
    throw new StateMemoryError('not enough memory to open the libraries of a new Lua state');
  }
  return L;
}

function openLibraries(image: LuaImage, L: number, fns: KernelFunctions, limited: boolean): void {
  const { api } = image;
  const cs = (s: string) => image.cstring(s);
  api.luaopen_base(L); // leaves _G on the stack (index 1)
  for (const name of LIBRARIES) {
    api[`luaopen_${name}`](L);
    api.lua_setglobal(L, cs(name));
  }
  api.lua_getglobal(L, cs('string'));
  api.lua_pushnil(L);
  api.lua_setfield(L, -2, cs('dump'));
  api.lua_settop(L, 1);

  for (const name of REMOVED_GLOBALS) {
    api.lua_pushnil(L);
    api.lua_setfield(L, 1, cs(name));
  }
  api.lua_pushcclosure(L, fns.print, 0);
  api.lua_setfield(L, 1, cs('print'));
  api.lua_pushcclosure(L, fns.warn, 0);
  api.lua_setfield(L, 1, cs('warn'));
  wrapGlobal(image, L, 'load', fns.load, 0);
  api.lua_getfield(L, 1, cs('collectgarbage'));
  api.lua_setfield(L, LUA_REGISTRYINDEX, cs(ORIGINAL_COLLECTGARBAGE));
  wrapGlobal(image, L, 'collectgarbage', fns.collectgarbage, 0);

  // The set of read-only tables, weak-keyed so it never keeps anything alive.
  api.lua_createtable(L, 0, LIBRARIES.length); // 2: readonly set
  api.lua_createtable(L, 0, 1);
  api.lua_pushstring(L, cs('k'));
  api.lua_setfield(L, -2, cs('__mode'));
  api.lua_setmetatable(L, 2);
  api.lua_pushvalue(L, 2);
  api.lua_setfield(L, LUA_REGISTRYINDEX, cs(READONLY_SET));
  api.lua_pushvalue(L, 2);
  wrapGlobal(image, L, 'rawset', fns.rawset, 1);

  if (limited) {
    wrapGlobal(image, L, 'xpcall', fns.xpcall, 0);
    api.lua_getfield(L, 1, cs('coroutine'));
    for (const name of ['create', 'wrap']) {
      api.lua_getfield(L, -1, cs(name));
      api.lua_pushcclosure(L, fns.newThread, 1);
      api.lua_setfield(L, -2, cs(name));
    }
    api.lua_settop(L, -2);
  }
  for (const name of LIBRARIES) protectLibrary(image, L, name, fns);
  protectStringMetatable(image, L);
  api.lua_settop(L, 0);
}

/** _G[name] = closure(fn, original, ...the `extra` values on top of the stack). Expects _G at index 1. */
function wrapGlobal(image: LuaImage, L: number, name: string, fn: number, extra: number): void {
  const { api } = image;
  api.lua_getfield(L, 1, image.cstring(name));
  api.lua_rotate(L, -1 - extra, 1); // original first, then the extra upvalues
  api.lua_pushcclosure(L, fn, 1 + extra);
  api.lua_setfield(L, 1, image.cstring(name));
}

/** Replaces the global library table `name` with a read-only proxy. Expects _G at index 1. */
function protectLibrary(image: LuaImage, L: number, name: string, fns: KernelFunctions): void {
  const { api } = image;
  api.lua_getfield(L, 1, image.cstring(name));
  makeReadonly(image, L, fns);
  api.lua_setfield(L, 1, image.cstring(name));
}

/**
 * Replaces the table at the top of the stack with an empty proxy whose reads fall through
 * to it and whose writes fail (rawset too: the proxy joins the registry's read-only set).
 */
export function makeReadonly(image: LuaImage, L: number, fns: KernelFunctions): void {
  const { api } = image;
  const cs = (s: string) => image.cstring(s);
  const real = api.lua_gettop(L);
  api.lua_createtable(L, 0, 0); // proxy
  api.lua_createtable(L, 0, 4); // its metatable
  api.lua_pushvalue(L, real);
  api.lua_setfield(L, -2, cs('__index'));
  api.lua_pushcclosure(L, fns.readonlyNewindex, 0);
  api.lua_setfield(L, -2, cs('__newindex'));
  api.lua_pushvalue(L, real);
  api.lua_pushcclosure(L, fns.readonlyNext, 1);
  api.lua_pushcclosure(L, fns.readonlyPairs, 1);
  api.lua_setfield(L, -2, cs('__pairs'));
  api.lua_pushboolean(L, 0);
  api.lua_setfield(L, -2, cs('__metatable'));
  api.lua_setmetatable(L, real + 1);
  api.lua_getfield(L, LUA_REGISTRYINDEX, cs(READONLY_SET));
  api.lua_pushvalue(L, real + 1);
  api.lua_pushboolean(L, 1);
  api.lua_rawset(L, -3);
  api.lua_settop(L, real + 1);
  api.lua_copy(L, real + 1, real);
  api.lua_settop(L, real);
}

/** getmetatable("") returns false instead of the table every string shares. */
function protectStringMetatable(image: LuaImage, L: number): void {
  const { api } = image;
  api.lua_pushstring(L, image.cstring(''));
  api.lua_getmetatable(L, -1);
  api.lua_pushboolean(L, 0);
  api.lua_setfield(L, -2, image.cstring('__metatable'));
  api.lua_settop(L, -3);
}
