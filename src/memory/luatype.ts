/*
 * Lua object types as lua_Alloc sees them.
 *
 * When ptr is NULL, Lua 5.4 passes the type of the object being created in
 * osize (luaC_newobj passes novariant(tt), older paths a variant tag such
 * as LUA_VLNGSTR = 4|1<<4 or LUA_VCCL = 6|2<<4), and 0 or an ordinary size
 * for non-object buffers. Tags fit in 6 bits (4 type + 2 variant), so
 * anything >= 64 is a size, not a tag, and counts as "other"; below that,
 * the low nibble is the basic type.
 *
 * Per-block metadata stores one tag byte: bits 0-3 the basic type, bit 4
 * LIVE, bits 5-7 the byType category. 0 means "no live block here", so the
 * same byte is the liveness check that catches double and wild frees, and
 * the category is a shift, not a table lookup, on every alloc and free.
 */

export const LUA_TSTRING = 4;
export const LUA_TTABLE = 5;
export const LUA_TFUNCTION = 6;
export const LUA_TUSERDATA = 7;
export const LUA_TTHREAD = 8;
/** Lua 5.4 lobject.h: LUA_TUPVAL = LUA_NUMTYPES (9), LUA_TPROTO = LUA_NUMTYPES + 1. */
export const LUA_TUPVAL = 9;
export const LUA_TPROTO = 10;

export const LIVE = 0x10;

/** Index into the byType counters. */
export const CAT_STRINGS = 0;
export const CAT_TABLES = 1;
export const CAT_CLOSURES = 2;
export const CAT_USERDATA = 3;
export const CAT_THREADS = 4;
export const CAT_OTHERS = 5;
export const CATEGORY_COUNT = 6;

export const CATEGORY_NAMES = ['strings', 'tables', 'closures', 'userdata', 'threads', 'others'] as const;
export type TypeCategory = (typeof CATEGORY_NAMES)[number];

export type LuaTypeName = 'string' | 'table' | 'function' | 'userdata' | 'thread' | 'upvalue' | 'proto' | 'other';

/** basic type (0..15) -> byType category. */
export const TYPE_CATEGORY: Uint8Array = (() => {
  const t = new Uint8Array(16).fill(CAT_OTHERS);
  t[LUA_TSTRING] = CAT_STRINGS;
  t[LUA_TTABLE] = CAT_TABLES;
  t[LUA_TFUNCTION] = CAT_CLOSURES;
  t[LUA_TUSERDATA] = CAT_USERDATA;
  t[LUA_TTHREAD] = CAT_THREADS;
  return t;
})();

const NAMES: LuaTypeName[] = (() => {
  const n: LuaTypeName[] = new Array<LuaTypeName>(16).fill('other');
  n[LUA_TSTRING] = 'string';
  n[LUA_TTABLE] = 'table';
  n[LUA_TFUNCTION] = 'function';
  n[LUA_TUSERDATA] = 'userdata';
  n[LUA_TTHREAD] = 'thread';
  n[LUA_TUPVAL] = 'upvalue';
  n[LUA_TPROTO] = 'proto';
  return n;
})();

/** osize of a fresh allocation -> basic type nibble (0 for non-objects). */
export function basicType(osize: number): number {
  return osize >= 0 && osize < 64 ? osize & 0x0f : 0;
}

export const CATEGORY_SHIFT = 5;

/** osize (0..63) of a fresh allocation -> tag byte; larger osize uses entry 0. */
export const TAG_FOR_OSIZE: Uint8Array = (() => {
  const t = new Uint8Array(64);
  for (let i = 0; i < 64; i++) t[i] = (i & 0x0f) | LIVE | (TYPE_CATEGORY[i & 0x0f]! << CATEGORY_SHIFT);
  return t;
})();

export function tagFor(osize: number): number {
  return TAG_FOR_OSIZE[osize >>> 0 < 64 ? osize : 0]!;
}

export function luaTypeName(tag: number): LuaTypeName {
  return NAMES[tag & 0x0f]!;
}
