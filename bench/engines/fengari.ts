// fengari: a Lua 5.3 VM written in JavaScript, driven through its C-like API.
import fengari from 'fengari';
import { type Adapter, ScriptError, cpuSince } from './types.js';

const { lua, lauxlib, lualib, to_luastring, to_jsstring } = fengari;

export const run: Adapter = async (source) => {
  const t0 = performance.now();
  const L = lauxlib.luaL_newstate();
  lualib.luaL_openlibs(L);
  const createMs = performance.now() - t0;
  try {
    const c1 = process.cpuUsage();
    const t1 = performance.now();
    // Converting to a Lua string is part of loading in fengari, so it is timed too.
    let status = lauxlib.luaL_loadstring(L, to_luastring(source));
    if (status === lua.LUA_OK) status = lua.lua_pcall(L, 0, 1, 0);
    const ms = performance.now() - t1;
    const cpuMs = cpuSince(c1);
    const text = to_jsstring(lauxlib.luaL_tolstring(L, -1));
    if (status !== lua.LUA_OK) throw new ScriptError(text);
    return { result: text, ms, cpuMs, createMs };
  } finally {
    lua.lua_close(L);
  }
};
