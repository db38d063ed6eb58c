/*
 * The baselines issue 10 measures the value bridge against: the same work done straight on
 * the image's exports, the way a careful hand-written caller would, with none of the
 * kernel's checks, limits or accounting, on a state that uses the image's own malloc.
 * Integers cross as the exports take them (lua_Integer is an i64: a BigInt in JavaScript).
 */
import { LuaImage } from '../../wasm/instance.js';
import { LUA_REGISTRYINDEX } from '../../wasm/lua-api.js';
import { LuaStrings } from '../../wasm/lua-strings.js';

export interface BareLua {
  /** f(i, 2, 3) for the function kept under registry reference `ref`, its integer result. */
  callF(i: number): number;
  /** rec() returning { device, offset, length }, read with lua_next into a JS object. */
  record(): Record<string, number>;
  /** sum(t) with t pushed as a new table of `values` (lua_createtable + lua_rawseti loop). */
  sumArray(values: readonly number[]): number;
  /** list() returning a table of n numbers, read back with lua_rawgeti into a JS array. */
  readArray(): number[];
}

const SETUP = `
  function f(a, b, c) return a + b + c end
  function rec() return { device = 3, offset = 4096, length = 512 } end
  function sum(t) local s = 0 for i = 1, #t do s = s + t[i] end return s end
  local list = {} for i = 1, 1000 do list[i] = i * 0.5 end
  function makelist() return list end
`;

export function bareLua(): BareLua {
  const image = LuaImage.instantiate({ console: () => undefined, maxMemoryBytes: 256 * 1024 * 1024 });
  const strings = new LuaStrings(image);
  const { api } = image;
  const L = api.luaL_newstate();
  (api as unknown as { luaL_openlibs(L: number): void }).luaL_openlibs(L);
  const [ptr, len] = strings.encodeIn(SETUP);
  api.luaL_loadbufferx(L, ptr, len, image.cstring('=bare'), image.cstring('t'));
  api.lua_pcallk(L, 0, 0, 0, 0, 0);
  const ref = (name: string): bigint => {
    api.lua_getglobal(L, image.cstring(name));
    return BigInt(api.luaL_ref(L, LUA_REGISTRYINDEX));
  };
  const f = ref('f');
  const rec = ref('rec');
  const sum = ref('sum');
  const makelist = ref('makelist');
  const slot = strings.outSlot;
  const key = (idx: number): string => {
    const p = api.lua_tolstring(L, idx, slot);
    return image.u8.toString('utf8', p, p + image.i32[slot >> 2]!);
  };
  return {
    callF(i) {
      api.lua_rawgeti(L, LUA_REGISTRYINDEX, f);
      api.lua_pushinteger(L, BigInt(i));
      api.lua_pushinteger(L, 2n);
      api.lua_pushinteger(L, 3n);
      api.lua_pcallk(L, 3, 1, 0, 0, 0);
      const r = Number(api.lua_tointegerx(L, -1, 0));
      api.lua_settop(L, 0);
      return r;
    },
    record() {
      api.lua_rawgeti(L, LUA_REGISTRYINDEX, rec);
      api.lua_pcallk(L, 0, 1, 0, 0, 0);
      const out: Record<string, number> = {};
      api.lua_pushnil(L);
      while (api.lua_next(L, 1) !== 0) {
        out[key(-2)] = Number(api.lua_tointegerx(L, -1, 0));
        api.lua_settop(L, -2);
      }
      api.lua_settop(L, 0);
      return out;
    },
    sumArray(values) {
      api.lua_rawgeti(L, LUA_REGISTRYINDEX, sum);
      api.lua_createtable(L, values.length, 0);
      for (let i = 0; i < values.length; i++) {
        api.lua_pushinteger(L, BigInt(values[i]!));
        api.lua_rawseti(L, -2, BigInt(i + 1));
      }
      api.lua_pcallk(L, 1, 1, 0, 0, 0);
      const r = Number(api.lua_tointegerx(L, -1, 0));
      api.lua_settop(L, 0);
      return r;
    },
    readArray() {
      api.lua_rawgeti(L, LUA_REGISTRYINDEX, makelist);
      api.lua_pcallk(L, 0, 1, 0, 0, 0);
      const n = api.lua_rawlen(L, 1);
      const out = new Array<number>(n);
      for (let i = 1; i <= n; i++) {
        api.lua_rawgeti(L, 1, BigInt(i));
        out[i - 1] = api.lua_tonumberx(L, -1, 0);
        api.lua_settop(L, 1);
      }
      api.lua_settop(L, 0);
      return out;
    },
  };
}

export const BRIDGE_SETUP = SETUP;
