/*
 * The baselines issue 2 measures the kernel against: the same work done straight on the
 * image's exports with none of the kernel's checks, libraries or accounting, on a state
 * that uses the image's own malloc (luaL_newstate).
 */
import { LuaImage } from '../../wasm/instance.js';
import { LuaStrings } from '../../wasm/lua-strings.js';

export interface RawLua {
  /** load + pcall + tolstring of `code` on one persistent state; returns the result's length. */
  call(code: string): number;
  /** luaL_newstate + the kernel's libraries opened + the call + lua_close. */
  freshStateCall(code: string): number;
}

export function rawLua(): RawLua {
  const image = LuaImage.instantiate({ console: () => undefined, maxMemoryBytes: 256 * 1024 * 1024 });
  const strings = new LuaStrings(image);
  const { api } = image;
  const name = image.cstring('=raw');
  const mode = image.cstring('t');
  // What luaL_openlibs would open of the kernel's library set (the image has no io, os, package, debug).
  const openLibs = (L: number) => {
    api.luaopen_base(L);
    for (const lib of ['coroutine', 'table', 'string', 'math', 'utf8'] as const) {
      api[`luaopen_${lib}`](L);
      api.lua_setglobal(L, image.cstring(lib));
    }
    api.lua_settop(L, 0);
  };
  const run = (L: number, code: string): number => {
    const [ptr, len] = strings.encodeIn(code);
    api.luaL_loadbufferx(L, ptr, len, name, mode);
    api.lua_pcallk(L, 0, 1, 0, 0, 0);
    api.lua_tolstring(L, -1, strings.outSlot);
    const n = image.i32[strings.outSlot >> 2]!;
    api.lua_settop(L, 0);
    return n;
  };
  const L = api.luaL_newstate();
  openLibs(L);
  return {
    call: (code) => run(L, code),
    freshStateCall(code) {
      const L1 = api.luaL_newstate();
      openLibs(L1);
      const n = run(L1, code);
      api.lua_close(L1);
      return n;
    },
  };
}
