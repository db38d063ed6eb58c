/*
 * The buffer hot path (wasm/buffer-access.wat): __index, __newindex, __len and __call as
 * genuine Wasm lua_CFunctions. `buf[i]` reads its arguments from the Lua stack in the
 * image's memory and pushes its result there (no BigInt, no typed-array view, not even a
 * call into the C API); __len and __call call the image's exports directly (exported
 * functions of one instance import into another with no JavaScript in between).
 *
 * The module is compiled once per process and instantiated once per image (it imports
 * that image's memory and functions). The layout of a buffer userdata is defined here,
 * next to the code that depends on it.
 */
import { BUFFER_ACCESS_WASM } from './buffer-access.bytes.js';
import type { LuaImage } from './instance.js';
import { LUA_OK } from './lua-api.js';

/** A buffer userdata: u32 size at offset 0, u32 reserved (0) at 4, then the bytes. */
export const BUFFER_HEADER_BYTES = 8;
export const BUFFER_SIZE_OFFSET = 0;

export type CFunction = (L: number) => number;

/** The JavaScript side: the complete behaviours, reached whenever the fast path declines. */
export interface BufferAccessHost {
  /** __index for anything but an integer key in range: methods, integral floats, errors. */
  index: CFunction;
  /** __newindex for anything but an integer key in range and an integer value 0..255. */
  newindex: CFunction;
  /** Raises the "buffer expected" type error for argument 1. */
  notbuffer: CFunction;
}

/** The exported lua_CFunctions, ready for the function table. */
export interface BufferAccess {
  /** Fast __index/__newindex; null when the image's stack layout failed the self-test (use the host's). */
  readonly index: WebAssembly.ExportValue | null;
  readonly newindex: WebAssembly.ExportValue | null;
  readonly len: WebAssembly.ExportValue;
  readonly call: WebAssembly.ExportValue;
}

let compiled: WebAssembly.Module | undefined;

export function bufferAccessModule(): WebAssembly.Module {
  compiled ??= new WebAssembly.Module(BUFFER_ACCESS_WASM);
  return compiled;
}

/** Instantiates the hot path against one image and checks the stack layout it relies on. */
export function instantiateBufferAccess(image: LuaImage, host: BufferAccessHost): BufferAccess {
  const { api } = image;
  const instance = new WebAssembly.Instance(bufferAccessModule(), {
    lua: {
      memory: api.memory,
      lua_gettop: api.lua_gettop,
      lua_touserdata: api.lua_touserdata,
      lua_isinteger: api.lua_isinteger,
      lua_tointegerx: api.lua_tointegerx,
      lua_pushinteger: api.lua_pushinteger,
      lua_createtable: api.lua_createtable,
      lua_rawseti: api.lua_rawseti,
    },
    host: { index: host.index, newindex: host.newindex, notbuffer: host.notbuffer },
  });
  const { index, newindex, len, call, selftest } = instance.exports;
  const direct = layoutHolds(image, selftest!);
  return { index: direct ? index! : null, newindex: direct ? newindex! : null, len: len!, call: call! };
}

/**
 * Runs the module's `selftest` as a real C call on a scratch state (the image's own
 * allocator, not a kernel budget; closed at once): true if every layout fact the direct
 * stack access relies on matches what the C API says.
 */
export function layoutHolds(image: LuaImage, selftest: WebAssembly.ExportValue): boolean {
  const { api } = image;
  const L = api.luaL_newstate();
  if (L === 0) return false;
  const slot = image.functions.place(selftest);
  try {
    api.lua_pushcclosure(L, slot, 0);
    api.lua_newuserdatauv(L, 16, 0);
    api.lua_pushinteger(L, 3n);
    api.lua_pushnumber(L, 2.5);
    api.lua_pushinteger(L, 200n);
    if (api.lua_pcallk(L, 4, 1, 0, 0, 0) !== LUA_OK) return false;
    return api.lua_tointegerx(L, -1, 0) === 1n;
  } catch {
    return false;
  } finally {
    image.functions.release(slot);
    try {
      api.lua_close(L);
    } catch {
      // a scratch state that cannot even close leaks a few KiB of the image's malloc; nothing else
    }
  }
}
