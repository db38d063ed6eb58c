/*
 * Lua values on the stack as JavaScript values, by DESIGN.md's mapping ("Values across the
 * boundary", Lua -> JS).
 *
 * Tables are read raw (lua_next), and nothing here allocates in the Lua state (float keys
 * are formatted in JavaScript, lua-number.ts), so no metamethod, finalizer or other script
 * code can run during a read and the read cannot fail inside Lua: it needs no protected
 * call. Failures throw a CrossError naming the path in Lua's terms (`[1]`, `.name`).
 *
 * A table becomes an Array when its keys are exactly 1..n: lua_next yields the array part
 * first and in order, so a sequence is recognised as it is read; any other order is sorted
 * out once all of its pairs are in. Objects have a null prototype, so a key "__proto__" or
 * "constructor" is an own property like any other.
 */
import type { LuaImage } from '../../../wasm/instance.js';
import { LUA_TBOOLEAN, LUA_TNIL, LUA_TNUMBER, LUA_TSTRING, LUA_TTABLE, LUA_TUSERDATA } from '../../../wasm/lua-api.js';
import type { ResultEncoder } from '../result.js';
import { CrossError, indexStep, invalid, nameStep, tooBig } from './cross-error.js';
import { luaFloatString } from './lua-number.js';
import type { ValueLimits } from './to-lua.js';

export type StringMode = 'text' | 'bytes';

/** The stack slots one table level uses: the key, the value, and room for what reading them needs. */
const LEVEL_SLOTS = 4;

export class FromLua {
  private entries = 0;
  /** lua_topointer of the tables being read, root first (cycle detection). */
  private readonly open: number[] = [];
  private bytes = false;

  constructor(
    private readonly image: LuaImage,
    /** A 4-byte out-parameter slot in the image's memory (lua_tolstring's length). */
    private readonly slot: number,
    private readonly limits: ValueLimits,
    private readonly encoders: readonly ResultEncoder[],
  ) {}

  /**
   * The values at stack indices `first..last` (absolute) as a new array; a failure's path
   * starts at `[i]` (0-based, the caller names the root).
   */
  readAll(L: number, first: number, last: number, strings: StringMode): unknown[] {
    this.begin(strings);
    const values = new Array<unknown>(last - first + 1);
    for (let i = first; i <= last; i++) values[i - first] = this.value(L, i, i - first);
    return values;
  }

  /** Starts a conversion (its limits count from here) of values read one by one with value(). */
  begin(strings: StringMode): void {
    this.entries = 0;
    if (this.open.length !== 0) this.open.length = 0;
    this.bytes = strings === 'bytes';
  }

  /** The value at absolute index `idx`, the `position`th of the conversion (its path starts at `[position]`). */
  value(L: number, idx: number, position: number): unknown {
    try {
      return this.read(L, idx, 1);
    } catch (e) {
      throw e instanceof CrossError ? e.at(indexStep(position)) : e;
    }
  }

  /** The value at absolute index `idx`; a table there is at nesting level `level`. */
  private read(L: number, idx: number, level: number): unknown {
    const { api } = this.image;
    switch (api.lua_type(L, idx)) {
      case LUA_TNIL:
        return null;
      case LUA_TBOOLEAN:
        return api.lua_toboolean(L, idx) !== 0;
      case LUA_TNUMBER:
        return this.number(L, idx);
      case LUA_TSTRING:
        return this.bytes ? this.copy(L, idx) : this.text(L, idx);
      case LUA_TTABLE:
        return this.table(L, idx, level);
      case LUA_TUSERDATA:
        for (const encode of this.encoders) {
          const bytes = encode(L, idx);
          if (bytes !== null) return new Uint8Array(bytes);
        }
        throw invalid('userdata cannot cross');
      default:
        throw invalid(`${this.image.readCString(api.lua_typename(L, api.lua_type(L, idx)))} cannot cross`);
    }
  }

  /**
   * A number: integer and float alike come out of lua_tonumberx as a double, exact for
   * every safe integer; only an integer beyond that range needs its exact (BigInt) value.
   */
  private number(L: number, idx: number): number | bigint {
    const { api } = this.image;
    const d = api.lua_tonumberx(L, idx, 0);
    if (d <= Number.MAX_SAFE_INTEGER && d >= -Number.MAX_SAFE_INTEGER) return d;
    return api.lua_isinteger(L, idx) ? api.lua_tointegerx(L, idx, 0) : d;
  }

  /** The string at `idx` (a string: lua_tolstring converts nothing) decoded as UTF-8, invalid bytes as U+FFFD. */
  private text(L: number, idx: number): string {
    const { image, slot } = this;
    const ptr = image.api.lua_tolstring(L, idx, slot);
    return image.u8.toString('utf8', ptr, ptr + (image.i32[slot >> 2]! >>> 0));
  }

  /** The bytes of the string at `idx`, copied. */
  private copy(L: number, idx: number): Uint8Array {
    const { image, slot } = this;
    const ptr = image.api.lua_tolstring(L, idx, slot);
    // A plain Uint8Array of its own (the heap is a Buffer, whose slice is a view).
    return new Uint8Array(image.u8.subarray(ptr, ptr + (image.i32[slot >> 2]! >>> 0)));
  }

  private table(L: number, idx: number, level: number): unknown {
    const { api } = this.image;
    if (level > this.limits.depth) throw tooBig(`nested deeper than limits.valueDepth (${this.limits.depth} levels)`);
    const pointer = api.lua_topointer(L, idx);
    if (this.open.includes(pointer)) throw invalid('cycle: the table contains itself');
    if (!api.lua_checkstack(L, LEVEL_SLOTS)) throw tooBig('nested deeper than the Lua stack allows');
    this.open.push(pointer);
    const array: unknown[] = [];
    // After the sequence breaks: the remaining pairs, keys as Lua numbers or JS strings.
    let keys: (number | bigint | string)[] | null = null;
    let values: unknown[] | null = null;
    const top = api.lua_gettop(L);
    const value = top + 2;
    api.lua_pushnil(L);
    while (api.lua_next(L, idx) !== 0) {
      if (++this.entries > this.limits.entries) throw tooBig(`more than limits.valueEntries (${this.limits.entries}) table entries`);
      const keyType = api.lua_type(L, top + 1);
      let key: number | bigint | string;
      if (keyType === LUA_TNUMBER) {
        key = this.number(L, top + 1);
        if (keys === null && key === array.length + 1) {
          array.push(this.entry(L, value, level, key));
          api.lua_settop(L, top + 1);
          continue;
        }
      } else if (keyType === LUA_TSTRING) {
        key = this.text(L, top + 1);
      } else {
        const type = this.image.readCString(api.lua_typename(L, keyType));
        throw invalid(`a ${type} key cannot cross (only string and number keys can)`);
      }
      keys ??= [];
      values ??= [];
      keys.push(key);
      values.push(this.entry(L, value, level, key));
      api.lua_settop(L, top + 1);
    }
    this.open.pop();
    if (keys === null) return array.length > 0 ? array : Object.create(null);
    return sequence(array, keys, values!) ?? record(array, keys, values!);
  }

  /** The value of the pair being read, at `idx`, naming its key in the path if it fails. */
  private entry(L: number, idx: number, level: number, key: number | bigint | string): unknown {
    try {
      return this.read(L, idx, level + 1);
    } catch (e) {
      throw e instanceof CrossError ? e.at(typeof key === 'string' ? nameStep(key) : indexStep(keyString(key))) : e;
    }
  }
}

/** The Array when `array` followed by the pairs has keys exactly 1..n, else null. */
function sequence(array: unknown[], keys: (number | bigint | string)[], values: unknown[]): unknown[] | null {
  const n = array.length + keys.length;
  for (const key of keys) {
    // Keys are distinct, so n of them all within 1..n are exactly 1..n.
    if (typeof key !== 'number' || !Number.isInteger(key) || key <= array.length || key > n) return null;
  }
  const result = array;
  result.length = n;
  for (let i = 0; i < keys.length; i++) result[(keys[i] as number) - 1] = values[i];
  return result;
}

function record(array: unknown[], keys: (number | bigint | string)[], values: unknown[]): Record<string, unknown> {
  const result = Object.create(null) as Record<string, unknown>;
  for (let i = 0; i < array.length; i++) result[i + 1] = array[i];
  for (let i = 0; i < keys.length; i++) {
    const key = keyString(keys[i]!);
    // 1 and "1", or two strings whose invalid bytes both read as U+FFFD: one would be lost.
    if (Object.hasOwn(result, key)) throw invalid(`two keys read as ${JSON.stringify(key)}`);
    result[key] = values[i];
  }
  return result;
}

/** A key as Lua's tostring shows it: integers as digits, floats as "%.14g" (with ".0" when integral). */
function keyString(key: number | bigint | string): string {
  if (typeof key !== 'number') return String(key);
  // An integral float key within int64 is stored as an integer, so an integral safe number is one.
  return Number.isSafeInteger(key) ? String(key) : luaFloatString(key);
}
