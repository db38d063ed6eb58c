/*
 * lunatik_buffer: fixed-size byte arrays that live in the Lua state's memory.
 *
 *   buffer.new(n)        n zero bytes (0 <= n, within the memory budget)
 *   buffer.from(s)       a copy of the bytes of a Lua string (or of another buffer)
 *   buffer.tostring(b)   the bytes as a Lua string; also the method b:tostring()
 *   b[i], b[i] = v       1-based; v an integer 0..255; anything else is an error
 *   #b                   the size
 *   b()                  a new table of the bytes, { b[1], ..., b[#b] }
 *   tostring(b)          "buffer: 16 bytes"
 *
 * A buffer is a full userdata (see wasm/buffer-access.ts for the layout), so its bytes
 * count against the budget and go away with the state. Element access, #b and b() run
 * in hand-written Wasm (wasm/buffer-access.wat); indexBinding and newindexBinding here
 * implement the complete behaviour and are what that fast path falls back to (and what
 * serves element access outright if the image fails the fast path's layout self-test).
 *
 * Where we differ from lunatik-ng (DESIGN.md): 1-based, range-checked, zero-filled, values
 * are never wrapped, `#b` works. Strings are not accepted where a number is expected
 * (buffer.new("16") is an error, unlike luaL_checkinteger), nor as indices or values.
 *
 * Methods are the metatable's fields whose names do not start with "__" (Lua's usual
 * `mt.__index = mt` arrangement); __index finds them for string keys, and any other string
 * key reads as nil, as for any Lua object.
 */
import { BUFFER_HEADER_BYTES, BUFFER_SIZE_OFFSET, instantiateBufferAccess, type BufferAccess, type CFunction } from '../../wasm/buffer-access.js';
import { guardHostFunction } from '../../wasm/host-function.js';
import type { LuaImage } from '../../wasm/instance.js';
import { LUA_TNIL, LUA_TNUMBER, LUA_TSTRING, LUA_TUSERDATA } from '../../wasm/lua-api.js';
import type { Binding, Lua } from './lua.js';
import type { LunatikModule } from './module.js';

/** The registry name of the buffer metatable (luaL_newmetatable). */
export const BUFFER_TYPE = 'lunatik.buffer';
/** Above this a size can never fit the image's 32-bit memory; smaller ones may still exceed the budget. */
export const MAX_BUFFER_SIZE = 2 ** 31 - 4096;

const UNDERSCORE = 0x5f;
const BUFFER_TYPE_BYTES = new TextEncoder().encode(BUFFER_TYPE);

/**
 * Address of the buffer userdata at `idx`, or 0 when the value there is not a buffer.
 *
 * luaL_testudata compares metatables with the one registered now; a buffer made before
 * `rmmod buffer` and a later `insmod buffer` carries the earlier metatable (the loader
 * registers a new one), so on a mismatch the metatable's __name decides. Only
 * luaL_newmetatable(BUFFER_TYPE) makes such a metatable, and scripts can neither create
 * userdata nor set a userdata's metatable, so the name is as good as the identity.
 */
export function testBuffer(lua: Lua, L: number, idx: number): number {
  const ud = lua.testUserdata(L, idx, BUFFER_TYPE);
  if (ud !== 0) return ud;
  const { api } = lua.image;
  if (api.lua_type(L, idx) !== LUA_TUSERDATA) return 0;
  if (api.luaL_getmetafield(L, idx, lua.image.cstring('__name')) === LUA_TNIL) return 0; // pushes nothing
  const view = api.lua_type(L, -1) === LUA_TSTRING ? lua.checkBytes(L, -1) : null;
  const isBuffer = view !== null && view.length === BUFFER_TYPE_BYTES.length && view.every((b, i) => b === BUFFER_TYPE_BYTES[i]);
  api.lua_settop(L, -2);
  return isBuffer ? api.lua_touserdata(L, idx) : 0;
}

/**
 * Address of the buffer userdata at argument `arg`, or raises
 * `bad argument #arg to 'f' (buffer expected, got table)`. luaL_checkudata with the
 * readable name "buffer" in the message instead of the registry name.
 */
export function checkBuffer(lua: Lua, L: number, arg: number, expected = 'buffer'): number {
  const ud = testBuffer(lua, L, arg);
  if (ud === 0) {
    lua.image.api.luaL_typeerror(L, arg, lua.image.cstring(expected));
    throw new Error('unreachable: luaL_typeerror returned');
  }
  return ud;
}

/** Size in bytes of the buffer userdata at address `ud`. */
export function bufferSize(image: LuaImage, ud: number): number {
  return image.i32[(ud + BUFFER_SIZE_OFFSET) >> 2]! >>> 0;
}

/** The bytes of the buffer at `idx`, as a view of the image's memory (no copy); raises if it is not a buffer. Valid until Lua runs again. */
export function bufferBytes(lua: Lua, L: number, idx: number): Uint8Array {
  const ud = checkBuffer(lua, L, idx);
  const start = ud + BUFFER_HEADER_BYTES;
  return lua.image.u8.subarray(start, start + bufferSize(lua.image, ud));
}

/**
 * Pushes a new buffer of `size` bytes (zero-filled unless `zero` is false, for callers that
 * overwrite every byte) and returns the address of its first byte. Running out of budget is
 * Lua's memory error (sysLua's -ENOMEM).
 */
export function pushBuffer(lua: Lua, L: number, size: number, zero = true): number {
  const { api } = lua.image;
  const ud = api.lua_newuserdatauv(L, BUFFER_HEADER_BYTES + size, 0);
  api.luaL_setmetatable(L, lua.image.cstring(BUFFER_TYPE));
  const words = lua.image.i32;
  words[(ud + BUFFER_SIZE_OFFSET) >> 2] = size;
  words[(ud + 4) >> 2] = 0;
  const start = ud + BUFFER_HEADER_BYTES;
  if (zero) lua.image.u8.fill(0, start, start + size);
  return start;
}

/** A size argument: a number with an integer value from 0 to MAX_BUFFER_SIZE. */
export function checkSize(lua: Lua, L: number, arg: number): number {
  const { api } = lua.image;
  if (api.lua_type(L, arg) !== LUA_TNUMBER) {
    api.luaL_typeerror(L, arg, lua.image.cstring('number'));
  }
  const n = api.luaL_checkinteger(L, arg); // "number has no integer representation" for 1.5, NaN, inf
  if (n < 0n) lua.argError(L, arg, `size must not be negative, got ${n}`);
  if (n > BigInt(MAX_BUFFER_SIZE)) lua.argError(L, arg, `size ${n} is too large: the limit is ${MAX_BUFFER_SIZE} bytes`);
  return Number(n);
}

/** How a rejected index or value is shown: numbers as Lua prints them, strings quoted, else the type. */
function describe(lua: Lua, L: number, idx: number): string {
  const { api } = lua.image;
  const type = api.lua_type(L, idx);
  if (type === LUA_TNUMBER || type === LUA_TSTRING) {
    api.lua_pushvalue(L, idx);
    const text = lua.checkString(L, api.lua_gettop(L)); // converts a copy, never the original key
    api.lua_settop(L, -2);
    if (type === LUA_TNUMBER) return text;
    return `string "${text.length > 40 ? `${text.slice(0, 40)}...` : text}"`;
  }
  return lua.image.readCString(api.lua_typename(L, type));
}

/** The 0-based offset of the index at `arg` in the buffer at `ud`, or a Lua error saying what is wrong. */
function checkOffset(lua: Lua, L: number, arg: number, ud: number): number {
  const { api } = lua.image;
  const size = bufferSize(lua.image, ud);
  const n = api.lua_type(L, arg) === LUA_TNUMBER ? api.lua_tonumberx(L, arg, 0) : NaN;
  if (!Number.isInteger(n)) lua.error(L, `buffer index must be an integer, got ${describe(lua, L, arg)}`);
  if (n < 1 || n > size) {
    lua.error(L, `buffer index ${describe(lua, L, arg)} out of range (${size === 0 ? 'the buffer is empty' : `1..${size}`})`);
  }
  return n - 1;
}

function checkByte(lua: Lua, L: number, arg: number): number {
  const { api } = lua.image;
  const v = api.lua_type(L, arg) === LUA_TNUMBER ? api.lua_tonumberx(L, arg, 0) : NaN;
  if (!Number.isInteger(v) || v < 0 || v > 255) {
    lua.error(L, `buffer value must be an integer from 0 to 255, got ${describe(lua, L, arg)}`);
  }
  return v;
}

/** __index, complete: method names, integral float keys, and every error. */
export const indexBinding: Binding = (lua, L) => {
  const { api } = lua.image;
  const ud = checkBuffer(lua, L, 1);
  if (api.lua_type(L, 2) === LUA_TSTRING) {
    const key = lua.checkBytes(L, 2);
    const isMetaName = key.length >= 2 && key[0] === UNDERSCORE && key[1] === UNDERSCORE;
    if (!isMetaName && api.lua_getmetatable(L, 1)) {
      api.lua_pushvalue(L, 2);
      api.lua_rawget(L, -2);
      return 1;
    }
    api.lua_pushnil(L);
    return 1;
  }
  // Past the end reads nil, as a table does: that is how ipairs finds the end.
  if (api.lua_type(L, 2) === LUA_TNUMBER && api.lua_tonumberx(L, 2, 0) > bufferSize(lua.image, ud)) {
    api.lua_pushnil(L);
    return 1;
  }
  const offset = checkOffset(lua, L, 2, ud);
  lua.pushInteger(L, lua.heap[ud + BUFFER_HEADER_BYTES + offset]!);
  return 1;
};

/** __newindex, complete. */
export const newindexBinding: Binding = (lua, L) => {
  const ud = checkBuffer(lua, L, 1);
  const offset = checkOffset(lua, L, 2, ud);
  const value = checkByte(lua, L, 3);
  lua.heap[ud + BUFFER_HEADER_BYTES + offset] = value;
  return 0;
};

const notBuffer: Binding = (lua, L) => {
  checkBuffer(lua, L, 1);
  return 0;
};

const newBuffer: Binding = (lua, L) => {
  pushBuffer(lua, L, checkSize(lua, L, 1));
  return 1;
};

/** buffer.from(s): a string's bytes, or a copy of another buffer. */
const fromBytes: Binding = (lua, L) => {
  const { api } = lua.image;
  let source: number;
  let size: number;
  const type = api.lua_type(L, 1);
  const ud = type === LUA_TUSERDATA ? testBuffer(lua, L, 1) : 0;
  if (type === LUA_TSTRING) {
    const view = lua.checkBytes(L, 1);
    source = view.byteOffset;
    size = view.length;
  } else if (ud !== 0) {
    source = ud + BUFFER_HEADER_BYTES;
    size = bufferSize(lua.image, ud);
  } else {
    api.luaL_typeerror(L, 1, lua.image.cstring('string'));
    return 0;
  }
  // Addresses, not views: the allocation may grow (and so detach) the memory, never move the source.
  const start = pushBuffer(lua, L, size, false);
  lua.heap.copyWithin(start, source, source + size);
  return 1;
};

/** buffer.tostring(b) and b:tostring(): the bytes as a Lua string (copied by Lua straight from the buffer). */
const toString: Binding = (lua, L) => {
  const ud = checkBuffer(lua, L, 1);
  lua.image.api.lua_pushlstring(L, ud + BUFFER_HEADER_BYTES, bufferSize(lua.image, ud));
  return 1;
};

const describeBuffer: Binding = (lua, L) => {
  const size = bufferSize(lua.image, checkBuffer(lua, L, 1));
  lua.pushString(L, `buffer: ${size} ${size === 1 ? 'byte' : 'bytes'}`);
  return 1;
};

/** A binding as a plain lua_CFunction body for the Wasm module's imports, with the host-function wrapper's guarantees. */
function guarded(lua: Lua, fn: Binding): CFunction {
  return guardHostFunction(lua.image, (L, message) => lua.error(L, message), (L) => fn(lua, L));
}

/**
 * One instance of the hot path per image: it imports that image's memory and functions.
 * Reloading the module reuses it, so insmod/rmmod cycles create nothing. The fallbacks
 * keep the first Lua wrapper they were given; every wrapper of an image is equivalent.
 */
const accessByImage = new WeakMap<LuaImage, BufferAccess>();

function accessFor(lua: Lua): BufferAccess {
  let access = accessByImage.get(lua.image);
  if (access === undefined) {
    access = instantiateBufferAccess(lua.image, {
      index: guarded(lua, indexBinding),
      newindex: guarded(lua, newindexBinding),
      notbuffer: guarded(lua, notBuffer),
    });
    accessByImage.set(lua.image, access);
  }
  return access;
}

export interface BufferModuleOptions {
  /**
   * Element access through the Wasm fast path (default true). False serves __index and
   * __newindex from the JavaScript bindings alone: the same behaviour, slower; what
   * happens anyway if the image fails the fast path's layout self-test.
   */
  fastPath?: boolean;
}

/** The buffer module; `buffer` below is the default one. */
export function bufferModule(options: BufferModuleOptions = {}): LunatikModule {
  const fastPath = options.fastPath ?? true;
  return {
    name: 'buffer',
    init(ctx) {
      const access = accessFor(ctx.lua);
      if (fastPath && access.index === null) {
        ctx.kernel.printk(4, 'buffer: the Lua image\'s stack layout is not the one buffer-access.wat expects; element access runs in JavaScript');
      }
      const wasmIndex = fastPath ? access.index : null;
      const wasmNewindex = fastPath ? access.newindex : null;
      ctx.library('buffer', { new: newBuffer, from: fromBytes, tostring: toString });
      ctx.userdata(BUFFER_TYPE, {
        metamethods: {
          __index: wasmIndex === null ? indexBinding : { wasm: wasmIndex },
          __newindex: wasmNewindex === null ? newindexBinding : { wasm: wasmNewindex },
          __len: { wasm: access.len },
          __call: { wasm: access.call },
          __tostring: describeBuffer,
          // Methods: fields of the metatable that __index serves for string keys.
          tostring: toString,
        },
      });
      // Runs outside protected mode: must not raise, so test rather than check.
      ctx.result((L, idx) => {
        const ud = testBuffer(ctx.lua, L, idx);
        if (ud === 0) return null;
        const start = ud + BUFFER_HEADER_BYTES;
        return ctx.lua.image.u8.subarray(start, start + bufferSize(ctx.lua.image, ud));
      });
    },
  };
}

export const buffer: LunatikModule = bufferModule();
