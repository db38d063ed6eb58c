/*
 * JavaScript values onto the Lua stack, by DESIGN.md's mapping ("Values across the
 * boundary", JS -> Lua).
 *
 * Pushing allocates in the Lua state (strings, tables), so a caller runs pushAll in
 * protected mode unless every value went through pushPlain (which never allocates): a memory
 * error is then Lua's own error (a longjmp, which passes through here untouched), never a
 * crash. Values that cannot cross, and values past
 * the limits, throw a CrossError naming their path; nothing is left half-pushed that the
 * caller does not discard with the rest of the stack.
 *
 * The caller's code may run here (getters, Proxy traps are refused before any trap runs):
 * whatever it throws becomes a CrossError, so nothing the caller throws can pass for a
 * longjmp. Conversions nest when a finalizer that runs during an allocation
 * calls an exposed function: each conversion saves and restores the converter's counters.
 */
import { types } from 'node:util';
import type { LuaImage } from '../../../wasm/instance.js';
import type { LuaStrings } from '../../../wasm/lua-strings.js';
import { uint8Length, uint8View } from '../../../wasm/lua-strings.js';
import type { BytesPusher } from '../result.js';
import { errno } from '../errno.js';
import { CrossError, indexStep, invalid, nameStep, tooBig } from './cross-error.js';
import type { IntegerAccess } from '../../../wasm/integer-access.js';

export interface ValueLimits {
  /** Nesting levels of tables. */
  depth: number;
  /** Table entries per conversion. */
  entries: number;
}


/** Lua's LUA_MINSTACK: the free slots a C function may count on, which nested pushes must not eat into. */
const MIN_STACK = 20;
/** Values pushed without lua_checkstack: LUA_MINSTACK minus a function and a spare slot. */
export const SMALL_PUSH = MIN_STACK - 2;
/** Largest table size requested up front; a longer array or object is -E2BIG before any allocation. */
const MAX_PREALLOCATION = 2 ** 26;
const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

const objectPrototype = Object.prototype;
const mapPrototype = Map.prototype;
const mapForEach = Map.prototype.forEach;
const mapSize = Object.getOwnPropertyDescriptor(Map.prototype, 'size')!.get!;
const isProxy = types.isProxy;

export class ToLua {
  private entries = 0;
  /** Objects on the path from the root to the value being pushed, from `base` on (cycle detection). */
  private readonly open: object[] = [];
  private base = 0;

  constructor(
    private readonly image: LuaImage,
    private readonly strings: LuaStrings,
    private readonly ints: IntegerAccess,
    private readonly limits: ValueLimits,
    /** How a Uint8Array becomes a module's value (a `buffer`); null: a string. */
    private readonly bytesPusher: () => BytesPusher | null,
  ) {}

  /**
   * Pushes `values[0..n-1]`; each failure's path starts at `[i]` (the caller names the
   * root). Throws CrossError; a memory error is a longjmp.
   */
  pushAll(L: number, values: readonly unknown[], n: number): void {
    const { entries, base } = this;
    this.entries = 0;
    this.base = this.open.length;
    try {
      // A few values fit the LUA_MINSTACK slots every caller has (the kernel's empty stack,
      // a C function's frame) with a function below them; more need the stack grown.
      if (n > SMALL_PUSH && !this.image.api.lua_checkstack(L, n + MIN_STACK)) throw tooBig(`${n} values are more than a Lua stack holds`);
      for (let i = 0; i < n; i++) {
        try {
          this.push(L, values[i], 1);
        } catch (e) {
          throw e instanceof CrossError ? e.at(indexStep(i)) : e;
        }
      }
    } finally {
      // Setting an array's length costs more than the comparison, even when nothing changes.
      if (this.open.length !== this.base) this.open.length = this.base;
      this.entries = entries;
      this.base = base;
    }
  }

  /**
   * Pushes `value` if it is a number, a boolean, undefined or null, which never allocate
   * (so need no protected call); false, pushing nothing, for anything else. A safe integer
   * other than -0 becomes an integer (-0 is a float in Lua: 1/-0 is -inf), any other
   * number a float.
   */
  pushPlain(L: number, value: unknown): boolean {
    if (typeof value === 'number') {
      if (Number.isSafeInteger(value) && (value !== 0 || 1 / value > 0)) this.ints.pushInteger(L, value);
      else this.image.api.lua_pushnumber(L, value);
      return true;
    }
    if (typeof value === 'boolean') this.image.api.lua_pushboolean(L, value ? 1 : 0);
    else if (value === undefined || value === null) this.image.api.lua_pushnil(L);
    else return false;
    return true;
  }

  /** Pushes one value at nesting level `level` (a table there is that level). */
  private push(L: number, value: unknown, level: number): void {
    const { api } = this.image;
    switch (typeof value) {
      case 'number':
        this.pushPlain(L, value);
        return;
      case 'string':
        this.pushString(L, value);
        return;
      case 'boolean':
        api.lua_pushboolean(L, value ? 1 : 0);
        return;
      case 'undefined':
        api.lua_pushnil(L);
        return;
      case 'bigint':
        if (value < INT64_MIN || value > INT64_MAX) throw invalid(`bigint ${value} is outside the 64-bit integer range`);
        api.lua_pushinteger(L, value);
        return;
      case 'object':
        if (value === null) api.lua_pushnil(L);
        else this.pushObject(L, value, level);
        return;
      default:
        throw invalid(`${typeof value} cannot cross`);
    }
  }

  private pushString(L: number, s: string): void {
    const [ptr, length] = this.strings.encodeIn(s);
    if (ptr === 0) throw new CrossError(-errno.ENOMEM, `a string of ${s.length} characters does not fit the kernel's transfer memory`);
    this.image.api.lua_pushlstring(L, ptr, length);
  }

  private pushObject(L: number, value: object, level: number): void {
    // A Proxy first: any other look at it (isArray aside) would run its traps.
    if (isProxy(value)) throw invalid('a Proxy cannot cross');
    let kind: TableKind;
    if (Array.isArray(value)) kind = TableKind.Array;
    else {
      const proto = Object.getPrototypeOf(value) as unknown;
      if (proto === objectPrototype || proto === null) kind = TableKind.Record;
      else if (proto === mapPrototype) kind = TableKind.Map;
      else if (uint8Length(value) >= 0) return this.pushBytes(L, uint8View(value)!);
      else throw invalid(`${describeObject(value)} cannot cross`);
    }
    if (level > this.limits.depth) throw tooBig(`nested deeper than limits.valueDepth (${this.limits.depth} levels)`);
    if (this.open.indexOf(value, this.base) >= 0) throw invalid('cycle: the value contains itself');
    if (!this.image.api.lua_checkstack(L, MIN_STACK)) throw tooBig('nested deeper than the Lua stack allows');
    this.open.push(value);
    if (kind === TableKind.Array) this.pushArray(L, value as unknown[], level);
    else if (kind === TableKind.Record) this.pushRecord(L, value as Record<string, unknown>, level);
    else this.pushMap(L, value as Map<unknown, unknown>, level);
    this.open.pop();
  }

  /** `bytes`: a fresh view of the caller's array (no own properties of theirs to run). */
  private pushBytes(L: number, bytes: Uint8Array): void {
    const pusher = this.bytesPusher();
    if (pusher !== null) return pusher(L, bytes);
    const ptr = this.strings.copyIn(bytes);
    if (ptr === 0) throw new CrossError(-errno.ENOMEM, `${bytes.length} bytes do not fit the kernel's transfer memory`);
    this.image.api.lua_pushlstring(L, ptr, bytes.length);
  }

  private pushArray(L: number, array: unknown[], level: number): void {
    const n = array.length;
    this.preallocate(n, 'an array');
    // The whole table at once: a huge array fails here, as the memory error it is.
    this.image.api.lua_createtable(L, n, 0);
    this.count(n);
    for (let i = 0; i < n; i++) {
      const element = read(array, i);
      if (element === undefined) continue; // a hole, or undefined: nil, which a table does not store
      if (!this.pushPlain(L, element)) {
        try {
          this.push(L, element, level + 1);
        } catch (e) {
          throw e instanceof CrossError ? e.at(indexStep(i)) : e;
        }
      }
      this.ints.rawseti(L, -2, i + 1);
    }
  }

  private pushRecord(L: number, record: Record<string, unknown>, level: number): void {
    const { api } = this.image;
    const keys = Object.keys(record);
    this.preallocate(keys.length, 'an object');
    api.lua_createtable(L, 0, keys.length);
    this.count(keys.length);
    for (const key of keys) {
      try {
        const field = read(record, key);
        this.pushString(L, key);
        this.push(L, field, level + 1);
      } catch (e) {
        throw e instanceof CrossError ? e.at(nameStep(key)) : e;
      }
      api.lua_rawset(L, -3);
    }
  }

  private pushMap(L: number, map: Map<unknown, unknown>, level: number): void {
    const { api } = this.image;
    const size = mapSize.call(map) as number;
    this.preallocate(size, 'a Map');
    api.lua_createtable(L, 0, size);
    this.count(size);
    // The intrinsic forEach: a Map's own (or patched) iterator never runs.
    mapForEach.call(map, (value: unknown, key: unknown) => {
      try {
        if (key === undefined || key === null) throw invalid(`${String(key)} cannot be a table key`);
        if (key !== key) throw invalid('NaN cannot be a table key');
        this.push(L, key, level + 1);
      } catch (e) {
        throw e instanceof CrossError ? e.at(`[key ${describeKey(key)}]`) : e;
      }
      try {
        this.push(L, value, level + 1);
      } catch (e) {
        throw e instanceof CrossError ? e.at(`.get(${describeKey(key)})`) : e;
      }
      api.lua_rawset(L, -3);
    });
  }

  private count(n: number): void {
    this.entries += n;
    if (this.entries > this.limits.entries) throw tooBig(`more than limits.valueEntries (${this.limits.entries}) table entries`);
  }

  private preallocate(n: number, what: string): void {
    if (n > MAX_PREALLOCATION) throw tooBig(`${what} of ${n} entries is more than a table may have`);
  }
}

const enum TableKind { Array, Record, Map }

/** `container[key]`, where the caller's getter may run: whatever it throws becomes a CrossError. */
function read(container: object, key: PropertyKey): unknown {
  try {
    return (container as Record<PropertyKey, unknown>)[key];
  } catch (e) {
    throw invalid(`reading it threw ${describeThrown(e)}`);
  }
}

function describeKey(key: unknown): string {
  if (typeof key === 'string') return JSON.stringify(key);
  return key !== null && (typeof key === 'object' || typeof key === 'function') ? `<${typeof key} key>` : String(key);
}

/** What kind of object this is, for a message; never runs the caller's code. */
export function describeObject(value: object): string {
  if (typeof value === 'function') return 'function';
  if (types.isDate(value)) return 'a Date';
  if (types.isRegExp(value)) return 'a RegExp';
  if (types.isPromise(value)) return 'a Promise';
  if (types.isAnyArrayBuffer(value)) return `an ${types.isSharedArrayBuffer(value) ? 'SharedArrayBuffer' : 'ArrayBuffer'}`;
  if (types.isTypedArray(value)) return 'a typed array other than Uint8Array';
  if (types.isDataView(value)) return 'a DataView';
  if (types.isMap(value)) return 'an instance of a Map subclass';
  if (types.isSet(value)) return 'a Set';
  if (types.isWeakMap(value) || types.isWeakSet(value)) return 'a weak collection';
  if (types.isNativeError(value)) return 'an Error';
  return 'a class instance';
}

/** A thrown value as text, whatever it is (its toString may throw, or be a getter); never throws. */
export function describeThrown(e: unknown): string {
  try {
    if (e instanceof Error) {
      const message = Object.getOwnPropertyDescriptor(e, 'message')?.value as unknown;
      return typeof message === 'string' ? message : 'an Error without a message';
    }
    if (typeof e === 'string') return e;
    if (typeof e === 'symbol') return e.description === undefined ? 'a Symbol' : `Symbol(${e.description})`;
    return String(e);
  } catch {
    return `an ${typeof e} that cannot be shown`;
  }
}
