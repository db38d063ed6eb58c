/*
 * What a finished call returns to the caller: the first return value as bytes (DESIGN.md's
 * conversion rules), or the error value as a message.
 *
 * Strings, booleans, nil and integers convert without allocating, straight from the
 * stack. Everything else (floats, __tostring, error objects) may allocate or run Lua
 * code, so it goes through a protected call of `convertValue`, which can fail safely.
 */
import { installHostFunction } from '../../wasm/host-function.js';
import type { LuaImage } from '../../wasm/instance.js';
import {
  LUA_OK, LUA_TBOOLEAN, LUA_TNIL, LUA_TNONE, LUA_TNUMBER, LUA_TSTRING, LUA_TTABLE, LUA_TUSERDATA,
} from '../../wasm/lua-api.js';
import type { LuaStrings } from '../../wasm/lua-strings.js';

const encoder = new TextEncoder();
const TRUE = encoder.encode('true');
const FALSE = encoder.encode('false');
const EMPTY = new Uint8Array(0);

/** Turns a userdata into result bytes (e.g. a buffer's raw bytes), or returns null if it is not its kind. */
export type ResultEncoder = (L: number, idx: number) => Uint8Array | null;

/** Pushes bytes coming from JavaScript as a module's userdata (a `buffer`); runs in protected mode. */
export type BytesPusher = (L: number, bytes: Uint8Array) => void;

export class ResultConverter {
  private readonly convertFn: number;
  readonly encoders: ResultEncoder[] = [];
  /** Modules' ways to make a Uint8Array a Lua value (the value bridge uses the last one loaded). */
  readonly pushers: BytesPusher[] = [];

  constructor(private readonly image: LuaImage, private readonly strings: LuaStrings) {
    const { api } = image;
    // (value, describeError) -> string | nothing
    this.convertFn = installHostFunction(image, strings, (L) => {
      const type = api.lua_type(L, 1);
      if (type === LUA_TNUMBER || api.luaL_getmetafield(L, 1, image.cstring('__tostring')) !== LUA_TNIL) {
        api.luaL_tolstring(L, 1, strings.outSlot);
        return 1;
      }
      if (!api.lua_toboolean(L, 2)) return 0;
      strings.pushString(L, `(error object is a ${this.typeName(L, 1)} value)`);
      return 1;
    });
  }

  typeName(L: number, idx: number): string {
    return this.image.readCString(this.image.api.lua_typename(L, this.image.api.lua_type(L, idx)));
  }

  /**
   * The value at the top as result bytes, or a string error message for a value that has
   * none (`invalid`), or for a __tostring that failed (`failed`). Views are valid until
   * the next call into Lua.
   */
  result(L: number): { bytes: Uint8Array } | { invalid: string } | { failed: string } {
    const { api } = this.image;
    const type = api.lua_type(L, -1);
    switch (type) {
      case LUA_TSTRING:
        return { bytes: this.strings.viewAt(L, -1)! };
      case LUA_TNIL:
      case LUA_TNONE:
        return { bytes: EMPTY };
      case LUA_TBOOLEAN:
        return { bytes: api.lua_toboolean(L, -1) ? TRUE : FALSE };
      case LUA_TNUMBER:
        if (api.lua_isinteger(L, -1)) return { bytes: encoder.encode(api.lua_tointegerx(L, -1, 0).toString()) };
        break;
      case LUA_TUSERDATA:
        for (const encode of this.encoders) {
          const bytes = encode(L, api.lua_gettop(L));
          if (bytes !== null) return { bytes };
        }
        break;
    }
    const status = this.convert(L, false);
    if (status !== LUA_OK) return { failed: this.message(L) };
    if (api.lua_type(L, -1) === LUA_TSTRING) return { bytes: this.strings.viewAt(L, -1)! };
    api.lua_settop(L, -2);
    const what = type === LUA_TTABLE ? 'a table' : `a ${this.typeName(L, -1)}`;
    return { invalid: `cannot return ${what} value from a script (return a string, number, boolean, nil, buffer or a value with __tostring)` };
  }

  /** The error value at the top, described as text; never fails. */
  message(L: number): string {
    const { api } = this.image;
    if (api.lua_type(L, -1) === LUA_TSTRING) return this.strings.stringAt(L, -1)!;
    const fallback = `(error object is a ${this.typeName(L, -1)} value)`;
    if (this.convert(L, true) !== LUA_OK) return `${fallback}; its __tostring failed: ${this.strings.stringAt(L, -1) ?? 'non-string error'}`;
    return this.strings.stringAt(L, -1) ?? fallback;
  }

  /** Protected convertValue(top, describeError): replaces nothing, pushes the string (or nil) or the error. */
  private convert(L: number, describeError: boolean): number {
    const { api } = this.image;
    const value = api.lua_gettop(L);
    api.lua_pushcclosure(L, this.convertFn, 0);
    api.lua_pushvalue(L, value);
    api.lua_pushboolean(L, describeError ? 1 : 0);
    return api.lua_pcallk(L, 2, 1, 0, 0, 0);
  }
}
