/*
 * Host functions exposed to Lua (kernel.expose): a JavaScript function under a global
 * name, called with its Lua arguments converted by the same mapping as eval's results,
 * its return value converted back as an argument would be.
 *
 * One C function (MachineValues.dispatch) serves them all; each global is a closure of it
 * whose upvalue is the function's id, so a closure that outlives unexpose (a script kept
 * it in a table) raises a Lua error instead of calling something else.
 *
 * Whatever the host function throws becomes a Lua error that pcall catches: an Error's
 * message, a string as it is, anything else described (even `undefined`, a Symbol, or an
 * object whose toString throws). Only the exceptions that mean the image itself is broken
 * propagate (the kernel discards the state). The kernel is busy while a host function
 * runs, so a call back into it returns -EBUSY.
 */
import { isFatal } from '../../../wasm/host-function.js';
import { LUA_REGISTRYINDEX, upvalueIndex } from '../../../wasm/lua-api.js';
import type { Machine } from '../machine.js';
import { CrossError } from './cross-error.js';
import type { MachineValues } from './machine-values.js';
import { describeThrown } from './to-lua.js';

const RIDX_GLOBALS = 2;
const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type HostFunction = (...args: any[]) => unknown;

interface Exposed {
  name: string;
  fn: HostFunction;
}

export class ExposedFunctions {
  private readonly byId = new Map<number, Exposed>();
  private readonly byName = new Map<string, number>();
  private nextId = 1;
  private readonly resultSlot: unknown[] = [undefined];

  static validName(name: unknown): name is string {
    return typeof name === 'string' && NAME.test(name);
  }

  /** Registers `fn` under `name` (replacing an earlier one); returns its id. */
  add(name: string, fn: HostFunction): number {
    this.remove(name);
    const id = this.nextId++;
    this.byId.set(id, { name, fn });
    this.byName.set(name, id);
    return id;
  }

  /** Forgets `name`; false if it was not exposed. */
  remove(name: string): boolean {
    const id = this.byName.get(name);
    if (id === undefined) return false;
    this.byName.delete(name);
    this.byId.delete(id);
    return true;
  }

  has(name: string): boolean {
    return this.byName.has(name);
  }

  /** Sets every exposed global in a new state (in protected mode: may raise a memory error). */
  applyAll(machine: Machine, values: MachineValues, L: number): void {
    for (const [name, id] of this.byName) this.setGlobal(machine, values, L, name, id);
  }

  /** _G[name] = the closure for `id`, or nil for id 0, raw (a script's __newindex on _G never runs). */
  setGlobal(machine: Machine, values: MachineValues, L: number, name: string, id: number): void {
    const { api } = machine.image;
    values.ints.rawgeti(L, LUA_REGISTRYINDEX, RIDX_GLOBALS);
    // A static C string, not the transfer buffer: a state opened for a call holds that
    // call's code in the transfer buffer until it is loaded.
    api.lua_pushstring(L, machine.image.cstring(name));
    if (id === 0) api.lua_pushnil(L);
    else {
      values.ints.pushInteger(L, id);
      api.lua_pushcclosure(L, values.dispatch, 1);
    }
    api.lua_rawset(L, -3);
    api.lua_settop(L, -2);
  }

  /** The lua_CFunction body of every exposed function. */
  dispatch(machine: Machine, values: MachineValues, L: number): number {
    const { api } = machine.image;
    const { strings } = machine;
    const exposed = this.byId.get(api.lua_tonumberx(L, upvalueIndex(1), 0));
    if (exposed === undefined) return strings.raise(L, 'attempt to call a host function that was unexposed');
    const { fromLua } = values;
    const n = api.lua_gettop(L);
    const { fn } = exposed;
    let result: unknown;
    let threw = false;
    let thrown: unknown;
    // Up to three arguments go straight into the call: no array to make and spread.
    let a: unknown, b: unknown, c: unknown, rest: unknown[] | undefined;
    try {
      fromLua.begin('text');
      if (n > 3) rest = fromLua.readAll(L, 1, n, 'text');
      else {
        if (n >= 1) a = fromLua.value(L, 1, 0);
        if (n >= 2) b = fromLua.value(L, 2, 1);
        if (n >= 3) c = fromLua.value(L, 3, 2);
      }
    } catch (e) {
      if (!(e instanceof CrossError)) throw e;
      return strings.raise(L, `bad argument to '${exposed.name}' (${e.message('args')})`);
    }
    try {
      result = rest !== undefined ? fn(...rest) : n === 0 ? fn() : n === 1 ? fn(a) : n === 2 ? fn(a, b) : fn(a, b, c);
    } catch (e) {
      threw = true;
      thrown = e;
    }
    if (threw) {
      if (fatal(thrown)) throw thrown;
      return strings.raise(L, thrownMessage(exposed.name, thrown));
    }
    // One reusable slot, not a new array per call: pushAll reads it before anything it pushes can run a finalizer.
    const slot = this.resultSlot;
    slot[0] = result;
    try {
      values.toLua.pushAll(L, slot, 1);
    } catch (e) {
      if (!(e instanceof CrossError)) throw e;
      return strings.raise(L, `'${exposed.name}' returned a value that cannot cross (${e.message('result')})`);
    } finally {
      slot[0] = undefined;
    }
    return 1;
  }
}

/** isFatal on a value the caller threw, which may be a Proxy whose traps throw. */
function fatal(e: unknown): boolean {
  try {
    return isFatal(e);
  } catch {
    return false;
  }
}

/** The Lua error message for what a host function threw. */
function thrownMessage(name: string, e: unknown): string {
  const text = describeThrown(e);
  let isError = false;
  try {
    isError = e instanceof Error;
  } catch {
    // a Proxy whose getPrototypeOf trap throws: not an Error
  }
  return isError || typeof e === 'string' ? text : `'${name}' threw ${text}`;
}
