/*
 * Values as a REPL shows them: what `print` would write for each, except that a table
 * without a metatable is written in Lua's literal form, `{ 1, 2, name = "x", [true] = 3 }`,
 * down to a depth limit, so that `return {1, 2}` shows its contents. A table with a
 * metatable (an object, a read-only library proxy) is not plain data: `print`'s text.
 *
 * Runs inside a protected call (the caller's job): luaL_tolstring may allocate or run a
 * __tostring metamethod, under the same limits as the script. Tables are read raw (no
 * __index, __pairs); the sequence 1..n comes first, in order, then the other keys in
 * `next` order. A table met again inside itself is shown by its address, never walked twice.
 */
import type { LuaImage } from '../../wasm/instance.js';
import { LUA_TNIL, LUA_TSTRING, LUA_TTABLE } from '../../wasm/lua-api.js';
import type { LuaStrings } from '../../wasm/lua-strings.js';

export interface LiteralLimits {
  /** Tables nested deeper than this are shown as `{...}`. */
  readonly depth: number;
  /** Entries shown per table; the rest become `...`. */
  readonly entries: number;
  /** Entries shown in all, so that nested tables cannot multiply the output (100^4 entries). */
  readonly total: number;
}

export const DEFAULT_LITERAL_LIMITS: LiteralLimits = { depth: 4, entries: 100, total: 2000 };

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;
const KEYWORDS = new Set(['and', 'break', 'do', 'else', 'elseif', 'end', 'false', 'for', 'function', 'goto', 'if', 'in',
  'local', 'nil', 'not', 'or', 'repeat', 'return', 'then', 'true', 'until', 'while']);
const strictUtf8 = new TextDecoder('utf-8', { fatal: true });
const ESCAPES: Record<number, string> = { 7: '\\a', 8: '\\b', 9: '\\t', 10: '\\n', 11: '\\v', 12: '\\f', 13: '\\r', 34: '\\"', 92: '\\\\' };

/** A Lua string literal of `bytes`: valid UTF-8 text stays readable, control and invalid bytes become escapes. */
export function quoteLua(bytes: Uint8Array): string {
  let utf8 = true;
  try {
    strictUtf8.decode(bytes);
  } catch {
    utf8 = false;
  }
  let out = '"';
  let i = 0;
  while (i < bytes.length) {
    const byte = bytes[i]!;
    if (ESCAPES[byte] !== undefined) out += ESCAPES[byte];
    else if (byte < 0x20 || byte === 0x7f || byte >= 0x80 && !utf8) {
      // \ddd is greedy: pad to three digits so a following digit is not read as part of it.
      out += `\\${String(byte).padStart(3, '0')}`;
    } else if (byte < 0x80) out += String.fromCharCode(byte);
    else {
      const length = byte >= 0xf0 ? 4 : byte >= 0xe0 ? 3 : 2;
      out += Buffer.from(bytes.subarray(i, i + length)).toString('utf8');
      i += length;
      continue;
    }
    i++;
  }
  return `${out}"`;
}

export class LiteralFormatter {
  /** Entries still allowed by `total` in this formatStack. */
  private remaining = 0;

  constructor(private readonly image: LuaImage, private readonly strings: LuaStrings, private readonly limits = DEFAULT_LITERAL_LIMITS) {}

  /** Each of the values at 1..top, as `print` would write them but with tables in literal form. */
  formatStack(L: number): string[] {
    const { api } = this.image;
    const top = api.lua_gettop(L);
    api.lua_createtable(L, 0, 0); // the tables being walked, against cycles
    const seen = api.lua_gettop(L);
    const out: string[] = [];
    this.remaining = this.limits.total;
    for (let i = 1; i <= top; i++) out.push(this.format(L, i, seen, 0, false));
    api.lua_settop(L, top);
    return out;
  }

  private format(L: number, idx: number, seen: number, depth: number, nested: boolean): string {
    const { api } = this.image;
    const type = api.lua_type(L, idx);
    if (type === LUA_TSTRING && nested) return quoteLua(this.strings.viewAt(L, idx)!);
    if (type !== LUA_TTABLE || api.lua_getmetatable(L, idx) !== 0) {
      if (type === LUA_TTABLE) api.lua_settop(L, -2); // the metatable found above
      return this.tostring(L, idx);
    }
    return this.table(L, idx, seen, depth);
  }

  /** luaL_tolstring, as print uses it. */
  private tostring(L: number, idx: number): string {
    const { api } = this.image;
    api.luaL_tolstring(L, idx, this.strings.outSlot);
    const text = this.strings.stringAt(L, -1) ?? '';
    api.lua_settop(L, -2);
    return text;
  }

  private table(L: number, idx: number, seen: number, depth: number): string {
    const { api } = this.image;
    api.lua_pushvalue(L, idx);
    if (api.lua_rawget(L, seen) !== LUA_TNIL || depth >= this.limits.depth) {
      api.lua_settop(L, -2);
      return depth >= this.limits.depth ? '{...}' : `<cycle: ${this.tostring(L, idx)}>`;
    }
    api.lua_settop(L, -2);
    api.luaL_checkstack(L, 4, 0);
    this.mark(L, idx, seen, true);
    const items: string[] = [];
    let n = 0;
    let more = false;
    const full = () => items.length >= this.limits.entries || this.remaining <= 0;
    while (api.lua_rawgeti(L, idx, BigInt(n + 1)) !== LUA_TNIL) {
      if (full()) {
        more = true;
        break;
      }
      this.remaining--;
      items.push(this.format(L, api.lua_gettop(L), seen, depth + 1, true));
      api.lua_settop(L, -2);
      n++;
    }
    api.lua_settop(L, -2); // the nil, or the entry past the limit
    if (!more) api.lua_pushnil(L);
    while (!more && api.lua_next(L, idx) !== 0) {
      const key = api.lua_gettop(L) - 1;
      if (!this.inSequence(L, key, n)) {
        if (full()) {
          more = true;
          api.lua_settop(L, -3);
          break;
        }
        this.remaining--;
        items.push(`${this.key(L, key, seen, depth)} = ${this.format(L, key + 1, seen, depth + 1, true)}`);
      }
      api.lua_settop(L, -2);
    }
    this.mark(L, idx, seen, false);
    if (more) items.push('...');
    return items.length === 0 ? '{}' : `{ ${items.join(', ')} }`;
  }

  private inSequence(L: number, key: number, n: number): boolean {
    const { api } = this.image;
    if (!api.lua_isinteger(L, key)) return false;
    const k = api.lua_tointegerx(L, key, 0);
    return k >= 1n && k <= BigInt(n);
  }

  private key(L: number, key: number, seen: number, depth: number): string {
    if (this.image.api.lua_type(L, key) === LUA_TSTRING) {
      const text = this.strings.stringAt(L, key)!;
      if (IDENTIFIER.test(text) && !KEYWORDS.has(text)) return text;
    }
    return `[${this.format(L, key, seen, depth + 1, true)}]`;
  }

  private mark(L: number, idx: number, seen: number, on: boolean): void {
    const { api } = this.image;
    api.lua_pushvalue(L, idx);
    if (on) api.lua_pushboolean(L, 1);
    else api.lua_pushnil(L);
    api.lua_rawset(L, seen);
  }
}
