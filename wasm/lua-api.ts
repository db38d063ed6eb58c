/*
 * Typed view of the Lua C API exported by the image.
 *
 * Pointers are 32-bit addresses into the image's memory (`number`); lua_Integer is a
 * 64-bit Wasm i64, which crosses into JavaScript as a `bigint`. Only the names this
 * project calls are typed; wasm/abi.ts lists (and checks) the whole export set.
 */

type Ptr = number;
type State = Ptr;

export interface LuaApi {
  readonly memory: WebAssembly.Memory;
  readonly __indirect_function_table: WebAssembly.Table;
  __wasm_call_ctors(): void;
  emscripten_stack_init(): void;
  stackSave(): Ptr;
  stackRestore(sp: Ptr): void;
  setThrew(threw: number, value: number): void;
  malloc(size: number): Ptr;
  realloc(ptr: Ptr, size: number): Ptr;
  free(ptr: Ptr): void;

  /** Fuel (wasm/lua/lunatik/lfuel.c): a new call's first slice of units, and the units charged since. */
  lunatik_fuelstart(slice: number): void;
  lunatik_fuelused(): number;

  lua_newstate(allocFn: number, ud: Ptr): State;
  luaL_newstate(): State;
  lua_close(L: State): void;
  lua_atpanic(L: State, panicFn: number): number;
  lua_setwarnf(L: State, warnFn: number, ud: Ptr): void;
  lua_version(L: State): number;
  lua_newthread(L: State): State;
  lua_resetthread(L: State): number;

  lua_absindex(L: State, idx: number): number;
  lua_gettop(L: State): number;
  lua_settop(L: State, idx: number): void;
  lua_rotate(L: State, idx: number, n: number): void;
  lua_copy(L: State, from: number, to: number): void;
  lua_pushvalue(L: State, idx: number): void;
  lua_checkstack(L: State, n: number): number;

  lua_type(L: State, idx: number): number;
  lua_typename(L: State, type: number): Ptr;
  lua_isinteger(L: State, idx: number): number;
  lua_isnumber(L: State, idx: number): number;
  lua_isstring(L: State, idx: number): number;
  lua_tonumberx(L: State, idx: number, isnum: Ptr): number;
  lua_tointegerx(L: State, idx: number, isnum: Ptr): bigint;
  lua_toboolean(L: State, idx: number): number;
  lua_tolstring(L: State, idx: number, len: Ptr): Ptr;
  lua_rawlen(L: State, idx: number): number;
  lua_touserdata(L: State, idx: number): Ptr;
  lua_topointer(L: State, idx: number): Ptr;
  lua_rawequal(L: State, a: number, b: number): number;

  lua_pushnil(L: State): void;
  lua_pushnumber(L: State, n: number): void;
  lua_pushinteger(L: State, n: bigint): void;
  lua_pushlstring(L: State, s: Ptr, len: number): Ptr;
  lua_pushstring(L: State, s: Ptr): Ptr;
  lua_pushcclosure(L: State, fn: number, nup: number): void;
  lua_pushboolean(L: State, b: number): void;
  lua_pushlightuserdata(L: State, p: Ptr): void;

  lua_getglobal(L: State, name: Ptr): number;
  lua_gettable(L: State, idx: number): number;
  lua_getfield(L: State, idx: number, k: Ptr): number;
  lua_geti(L: State, idx: number, i: bigint): number;
  lua_rawget(L: State, idx: number): number;
  lua_rawgeti(L: State, idx: number, i: bigint): number;
  lua_rawgetp(L: State, idx: number, p: Ptr): number;
  lua_createtable(L: State, narr: number, nrec: number): void;
  lua_newuserdatauv(L: State, size: number, nuvalue: number): Ptr;
  lua_getmetatable(L: State, idx: number): number;
  lua_getiuservalue(L: State, idx: number, n: number): number;

  lua_setglobal(L: State, name: Ptr): void;
  lua_settable(L: State, idx: number): void;
  lua_setfield(L: State, idx: number, k: Ptr): void;
  lua_seti(L: State, idx: number, i: bigint): void;
  lua_rawset(L: State, idx: number): void;
  lua_rawseti(L: State, idx: number, i: bigint): void;
  lua_rawsetp(L: State, idx: number, p: Ptr): void;
  lua_setmetatable(L: State, idx: number): number;
  lua_setiuservalue(L: State, idx: number, n: number): number;

  lua_callk(L: State, nargs: number, nresults: number, ctx: number, k: number): void;
  lua_pcallk(L: State, nargs: number, nresults: number, msgh: number, ctx: number, k: number): number;
  lua_error(L: State): number;
  lua_next(L: State, idx: number): number;
  lua_concat(L: State, n: number): void;
  lua_len(L: State, idx: number): void;
  lua_warning(L: State, msg: Ptr, tocont: number): void;

  luaL_loadbufferx(L: State, buf: Ptr, size: number, name: Ptr, mode: Ptr): number;
  luaL_tolstring(L: State, idx: number, len: Ptr): Ptr;
  luaL_checklstring(L: State, arg: number, len: Ptr): Ptr;
  luaL_checkinteger(L: State, arg: number): bigint;
  luaL_checknumber(L: State, arg: number): number;
  luaL_checkany(L: State, arg: number): void;
  luaL_checktype(L: State, arg: number, t: number): void;
  luaL_argerror(L: State, arg: number, extramsg: Ptr): number;
  luaL_typeerror(L: State, arg: number, tname: Ptr): number;
  luaL_checkudata(L: State, arg: number, tname: Ptr): Ptr;
  luaL_testudata(L: State, arg: number, tname: Ptr): Ptr;
  luaL_newmetatable(L: State, tname: Ptr): number;
  luaL_setmetatable(L: State, tname: Ptr): void;
  luaL_getmetafield(L: State, obj: number, e: Ptr): number;
  luaL_ref(L: State, t: number): number;
  luaL_unref(L: State, t: number, ref: number): void;
  luaL_traceback(L: State, L1: State, msg: Ptr, level: number): void;
  luaL_where(L: State, level: number): void;
  luaL_getsubtable(L: State, idx: number, fname: Ptr): number;
  luaL_checkstack(L: State, sz: number, msg: Ptr): void;

  luaopen_base(L: State): number;
  luaopen_coroutine(L: State): number;
  luaopen_table(L: State): number;
  luaopen_string(L: State): number;
  luaopen_math(L: State): number;
  luaopen_utf8(L: State): number;
}

export const LUA_OK = 0;
export const LUA_ERRRUN = 2;
export const LUA_ERRSYNTAX = 3;
export const LUA_ERRMEM = 4;
/** The image's own status: fuel (the instruction budget or the deadline) ran out. */
export const LUA_ERRFUEL = 7;

export const LUA_TNONE = -1;
export const LUA_TNIL = 0;
export const LUA_TBOOLEAN = 1;
export const LUA_TNUMBER = 3;
export const LUA_TSTRING = 4;
export const LUA_TTABLE = 5;
export const LUA_TFUNCTION = 6;
export const LUA_TUSERDATA = 7;
export const LUA_TTHREAD = 8;

export const LUA_MULTRET = -1;
/** -LUAI_MAXSTACK - 1000, with LUAI_MAXSTACK = 1,000,000 on this 32-bit build. */
export const LUA_REGISTRYINDEX = -1001000;

export function upvalueIndex(i: number): number {
  return LUA_REGISTRYINDEX - i;
}
