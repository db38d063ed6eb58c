/*
 * The binding API: what a TypeScript function sees when Lua calls it.
 *
 * A binding is `(lua, L) => nresults`, like a lua_CFunction. Argument checks raise Lua's
 * own errors (`bad argument #1 to 'new' (number expected, got string)`) because they are
 * Lua's own luaL_check* functions. Integers cross as lua_Integer (i64) and come back as
 * JS numbers when they are safe integers, so an integer stays an integer both ways.
 * Errors raised here are Lua errors (longjmps); any other exception a binding throws is
 * turned into a Lua error by the host-function wrapper, never unwinding through Lua.
 */
import type { LuaImage } from '../../wasm/instance.js';
import { LUA_TNONE, LUA_TNIL } from '../../wasm/lua-api.js';
import type { LuaStrings } from '../../wasm/lua-strings.js';

export type Binding = (lua: Lua, L: number) => number;

const decoder = new TextDecoder();

export class Lua {
  /** The image behind the facade, for the kernel's own modules; not part of the public types. @internal */
  readonly image: LuaImage;
  private readonly strings: LuaStrings;

  /** @internal */
  constructor(image: LuaImage, strings: LuaStrings) {
    this.image = image;
    this.strings = strings;
  }

  /** The whole image memory; re-read it after any call into Lua (memory may grow). */
  get heap(): Uint8Array {
    return this.image.u8;
  }

  top(L: number): number {
    return this.image.api.lua_gettop(L);
  }

  type(L: number, arg: number): number {
    return this.image.api.lua_type(L, arg);
  }

  isNoneOrNil(L: number, arg: number): boolean {
    const t = this.image.api.lua_type(L, arg);
    return t === LUA_TNONE || t === LUA_TNIL;
  }

  /** An integer argument (a float with an exact integer value is accepted, as Lua does). */
  checkInteger(L: number, arg: number): number {
    const value = this.image.api.luaL_checkinteger(L, arg);
    if (value > BigInt(Number.MAX_SAFE_INTEGER) || value < BigInt(Number.MIN_SAFE_INTEGER)) {
      this.argError(L, arg, 'integer out of range');
    }
    return Number(value);
  }

  optInteger(L: number, arg: number, fallback: number): number {
    return this.isNoneOrNil(L, arg) ? fallback : this.checkInteger(L, arg);
  }

  checkNumber(L: number, arg: number): number {
    return this.image.api.luaL_checknumber(L, arg);
  }

  /** A string argument's bytes (numbers are converted, as luaL_checklstring does); valid until Lua runs again. */
  checkBytes(L: number, arg: number): Uint8Array {
    const ptr = this.image.api.luaL_checklstring(L, arg, this.strings.outSlot);
    const len = this.image.i32[this.strings.outSlot >> 2]! >>> 0;
    return this.image.u8.subarray(ptr, ptr + len);
  }

  checkString(L: number, arg: number): string {
    return decoder.decode(this.checkBytes(L, arg));
  }

  checkAny(L: number, arg: number): void {
    this.image.api.luaL_checkany(L, arg);
  }

  /** Address of the userdata block at `arg` if its metatable is the one registered as `typeName`, else raises. */
  checkUserdata(L: number, arg: number, typeName: string): number {
    return this.image.api.luaL_checkudata(L, arg, this.image.cstring(typeName));
  }

  /** Like checkUserdata, but returns 0 instead of raising. */
  testUserdata(L: number, arg: number, typeName: string): number {
    return this.image.api.luaL_testudata(L, arg, this.image.cstring(typeName));
  }

  /** A new userdata of `size` bytes with the metatable registered as `typeName`; returns its address. */
  newUserdata(L: number, size: number, typeName: string): number {
    const ptr = this.image.api.lua_newuserdatauv(L, size, 0);
    this.image.api.luaL_setmetatable(L, this.image.cstring(typeName));
    return ptr;
  }

  pushInteger(L: number, n: number): void {
    this.image.api.lua_pushinteger(L, BigInt(n));
  }

  pushNumber(L: number, n: number): void {
    this.image.api.lua_pushnumber(L, n);
  }

  pushBoolean(L: number, b: boolean): void {
    this.image.api.lua_pushboolean(L, b ? 1 : 0);
  }

  pushNil(L: number): void {
    this.image.api.lua_pushnil(L);
  }

  pushString(L: number, s: string): void {
    this.strings.pushString(L, s);
  }

  pushBytes(L: number, bytes: Uint8Array): void {
    this.strings.pushBytes(L, bytes);
  }

  /** `bad argument #arg to 'name' (message)`. */
  argError(L: number, arg: number, message: string): never {
    const [ptr] = this.strings.encodeIn(message);
    this.image.api.luaL_argerror(L, arg, ptr);
    throw new Error('unreachable: luaL_argerror returned');
  }

  /** A Lua error with the caller's position, like luaL_error. */
  error(L: number, message: string): never {
    return this.strings.raise(L, message);
  }
}
