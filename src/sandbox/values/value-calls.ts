/*
 * The value bridge's entry points behind Kernel.eval, call, load, expose and unexpose
 * (DESIGN.md, "Values across the boundary"). The kernel lends its call machinery (KernelCore):
 * the busy flag, stats, panic handling and endCall are the same as sysLua's, and so are the
 * errnos of a failed call.
 *
 * A call: the function on an empty stack (loaded, looked up, or from a handle's registry
 * reference), then the arguments, then lua_pcallk with every result kept, then the
 * results read into JavaScript. Arguments are read out of the caller's array once, inside
 * the call, so a getter that calls back into the kernel gets -EBUSY, and one that throws
 * gets -EINVAL; numbers, booleans and nils are pushed as they are read, and if any other
 * value comes, all of them are pushed again in a protected call. Nothing here throws to the
 * caller but the host's stack running out, which the kernel's last catch answers.
 */
import { types } from 'node:util';
import { uint8Length } from '../../../wasm/lua-strings.js';
import { LUA_MULTRET, LUA_OK, LUA_REGISTRYINDEX } from '../../../wasm/lua-api.js';
import { errno, STACK_FAILURE, strerror } from '../errno.js';
import type { Machine } from '../machine.js';
import type { ResolvedOptions } from '../options.js';
import { checkUserArgs, copyFromUser, type UserCode } from '../user-copy.js';
import { CrossError, invalid, tooBig } from './cross-error.js';
import { ExposedFunctions, type HostFunction } from './exposed.js';
import type { StringMode } from './from-lua.js';
import { MachineValues } from './machine-values.js';
import { describeThrown, SMALL_PUSH, type ToLua } from './to-lua.js';

export interface ValueResult {
  /** The number of values (>= 0), or a negative errno. */
  rc: number;
  /** The script's return values, when rc >= 0. */
  values?: unknown[];
  /** What went wrong, when rc < 0. */
  error?: string;
}

export interface ValueOptions {
  /** How Lua strings come back: 'text' (default, decoded as UTF-8) or 'bytes' (Uint8Array). */
  strings?: StringMode;
}

export interface EvalOptions extends ValueOptions {
  /** Chunk name in error messages (default "sysLua"); a chunk with another name is not cached. */
  name?: string;
}

export interface LoadResult {
  /** 0, or a negative errno. */
  rc: number;
  fn?: LoadedFunction;
  error?: string;
}

/** A handle not released by shutdown, as the shutdown report lists it. */
export interface HandleRecord {
  name: string;
  /** The start of its source. */
  source: string;
}

/** What a handle's call and release go through (the kernel's guarded entries). */
export interface HandleOwner {
  call(handle: LoadedFunction, args: unknown, options: unknown): ValueResult;
  release(handle: LoadedFunction): number;
}

/** What the value bridge needs of the kernel. */
export interface KernelCore {
  readonly options: ResolvedOptions;
  readonly handles: HandleOwner;
  /** 0 when a call may start, else -ESHUTDOWN or -EBUSY. */
  gate(): number;
  /** The machine in use, or null before the first call or after a panic. */
  current(): Machine | null;
  /**
   * Runs `body` as one kernel call (busy flag, stats, panic, endCall); never throws: when
   * the host's JS stack runs out it answers `exhausted`.
   */
  enter<T>(body: (machine: Machine) => T, failed: (rc: number, message: string) => T, exhausted: T): T;
  /** Copies all of `code` (codeSz bytes) in, opens the state if needed and loads it: the status, with the function or the error on top. */
  load(machine: Machine, code: UserCode, codeSz: number, chunkName: string): number;
  /** The call's state, opened if there is none. */
  state(machine: Machine): number;
  /** The errno and message of a failed call (limits first, then memory, then the status; LUA_OK: a limit was exceeded). */
  failure(machine: Machine, L: number, status: number): { rc: number; error: string };
}

const DEFAULT_CHUNK = '=sysLua';
const isProxy = types.isProxy;
/** Arguments of one call at most: a Lua stack holds a million slots, and a sparse array must not make us loop for ever. */
const MAX_ARGS = 100_000;
/** The scratch copy of the arguments is kept between calls up to this size. */
const MAX_KEPT_ARGS = 64;
const SOURCE_PREVIEW = 60;
const decoder = new TextDecoder();

function failed(rc: number, error?: string): ValueResult {
  return { rc, error: error || strerror(rc) };
}

export class ValueCalls {
  private readonly perMachine = new WeakMap<Machine, MachineValues>();
  private lastMachine: Machine | null = null;
  private lastValues: MachineValues | null = null;
  readonly exposed = new ExposedFunctions();
  private readonly handles = new Set<LoadedFunction>();
  /** The arguments of the running call, copied out of the caller's array. */
  private args: unknown[] = [];
  private argCount = 0;

  constructor(private readonly core: KernelCore) {}

  eval(code: unknown, args: unknown, options: unknown): ValueResult {
    try {
      const size = this.admit(code);
      if (size < 0) return failed(size);
      this.readOptions(options, true);
      this.size = size;
      return this.enter(this.evalBody, code, args);
    } catch (e) {
      // A RangeError is the host's JS stack running out: answered without a call.
      return e instanceof RangeError ? STACK_FAILURE : this.rejected(e);
    }
  }

  call(name: unknown, args: unknown, options: unknown): ValueResult {
    try {
      const gate = this.core.gate();
      if (gate !== 0) return failed(gate);
      if (typeof name !== 'string') return failed(-errno.EINVAL, 'name must be a string');
      this.readOptions(options, false);
      return this.enter(this.callBody, name, args);
    } catch (e) {
      // A RangeError is the host's JS stack running out: answered without a call.
      return e instanceof RangeError ? STACK_FAILURE : this.rejected(e);
    }
  }

  /** The byte size of `code` when a call may start with it, else the errno (-ESHUTDOWN, -EBUSY, sysLua's code checks). */
  private admit(code: unknown): number {
    const gate = this.core.gate();
    if (gate !== 0) return gate;
    const size = typeof code === 'string' ? Buffer.byteLength(code) : uint8Length(code);
    const rc = checkUserArgs(code, size, null, 0, this.core.options.codeSizeLimit);
    return rc !== 0 ? rc : size;
  }

  /** Runs a body with the call's target and arguments in the fields it reads (only after the gate said yes: calls never overlap). */
  private enter(body: (machine: Machine) => ValueResult, target: unknown, args: unknown): ValueResult {
    this.target = target;
    this.callArgs = args;
    try {
      return this.core.enter(body, failed, STACK_FAILURE);
    } finally {
      this.target = this.callArgs = undefined;
    }
  }

  // The bodies of the calls, made once: the running call's parameters are in the fields
  // below (calls never overlap: the kernel is busy from enter to its end).
  private target: unknown;
  private size = 0;
  private callArgs: unknown;
  private strings: StringMode = 'text';
  private chunkName = DEFAULT_CHUNK;

  private readonly evalBody = (machine: Machine): ValueResult => {
    const status = this.core.load(machine, this.target as UserCode, this.size, this.chunkName);
    return this.invoke(machine, status, 1);
  };

  private readonly callBody = (machine: Machine): ValueResult => {
    const name = this.target as string;
    const L = this.core.state(machine);
    const values = this.machineValues(machine);
    if (this.core.options.isolate) values.forgetNames(null);
    const status = values.lookup(L, name);
    if (status === -errno.ENOENT) return failed(status, `${name} is not a function (it is ${values.missing})`);
    if (status === -errno.EINVAL) return failed(status, 'name must be a global name or a dotted path such as "a.b.c"');
    return this.invoke(machine, status, machine.image.api.lua_gettop(L));
  };

  load(code: unknown, options: unknown): LoadResult {
    try {
      const size = this.admit(code);
      if (size < 0) return failed(size);
      this.readOptions(options, true);
      const { chunkName } = this;
      // The handle keeps its own copy of the source: a new state (isolate mode, or after a
      // panic) compiles it again.
      const source = copyFromUser(code as UserCode, size);
      return this.core.enter<LoadResult>((machine) => {
        const L = this.core.state(machine);
        const status = this.core.load(machine, source, source.length, chunkName);
        if (status !== LUA_OK) return this.core.failure(machine, L, status);
        const handle = new LoadedFunction(this.core.handles, source, chunkName);
        if (!this.core.options.isolate) {
          const made = this.reference(machine, L);
          if (made.rc < 0) return made;
          handle.bind(machine, made.rc);
        }
        this.handles.add(handle);
        return { rc: 0, fn: handle };
      }, failed, STACK_FAILURE);
    } catch (e) {
      // A RangeError is the host's JS stack running out: answered without a call.
      return e instanceof RangeError ? STACK_FAILURE : this.rejected(e);
    }
  }

  /** fn.call: the handle's function, from its registry reference (compiled again in a state that lacks it). */
  callLoaded(handle: LoadedFunction, args: unknown, options: unknown): ValueResult {
    try {
      const gate = this.core.gate();
      if (gate !== 0) return failed(gate);
      if (handle.released) return failed(-errno.ENOENT, 'the function was released');
      this.readOptions(options, false);
      return this.enter(this.loadedBody, handle, args);
    } catch (e) {
      // A RangeError is the host's JS stack running out: answered without a call.
      return e instanceof RangeError ? STACK_FAILURE : this.rejected(e);
    }
  }

  private readonly loadedBody = (machine: Machine): ValueResult => {
    const handle = this.target as LoadedFunction;
    const L = this.core.state(machine);
    const ref = handle.refIn(machine);
    if (ref !== 0) {
      this.machineValues(machine).ints.rawgeti(L, LUA_REGISTRYINDEX, ref);
      return this.invoke(machine, LUA_OK, 1);
    }
    const status = this.core.load(machine, handle.source, handle.source.length, handle.chunkName);
    if (status === LUA_OK && !this.core.options.isolate) {
      // The state is new since the handle was made (a panic rebuilt it): keep the function again.
      machine.image.api.lua_pushvalue(L, -1);
      const made = this.reference(machine, L);
      if (made.rc < 0) return made;
      handle.bind(machine, made.rc);
    }
    return this.invoke(machine, status, 1);
  };

  /** fn.release: 0 (also when already released or the kernel is down), or -EBUSY while a call runs. */
  release(handle: LoadedFunction): number {
    if (handle.released) return 0;
    const gate = this.core.gate();
    if (gate === -errno.EBUSY) return gate;
    this.handles.delete(handle);
    handle.released = true;
    const machine = this.core.current();
    const ref = machine === null ? 0 : handle.refIn(machine);
    // luaL_unref only rewrites registry slots that exist: it cannot fail or allocate.
    if (gate === 0 && ref !== 0) machine!.image.api.luaL_unref(machine!.L, LUA_REGISTRYINDEX, ref);
    handle.bind(null, 0);
    return 0;
  }

  /** Handles still held at shutdown (they are released with the state). */
  shutdown(): HandleRecord[] {
    const records = [...this.handles].map((h) => ({ name: h.chunkName.slice(1), source: decoder.decode(h.source.subarray(0, SOURCE_PREVIEW)) }));
    for (const handle of this.handles) handle.released = true;
    this.handles.clear();
    return records;
  }

  /** 0, or -EINVAL (bad name or not a function), -ENOMEM, -EBUSY, -ESHUTDOWN. */
  expose(name: unknown, fn: unknown): number {
    const gate = this.core.gate();
    if (gate !== 0) return gate;
    if (!ExposedFunctions.validName(name) || typeof fn !== 'function') return -errno.EINVAL;
    const id = this.exposed.add(name, fn as HostFunction);
    if (this.setInState(name, id) !== LUA_OK) {
      this.exposed.remove(name);
      return -errno.ENOMEM;
    }
    return 0;
  }

  /** 0, or -ENOENT (not exposed), -EBUSY, -ESHUTDOWN. */
  unexpose(name: unknown): number {
    const gate = this.core.gate();
    if (gate !== 0) return gate;
    if (typeof name !== 'string' || !this.exposed.remove(name)) return -errno.ENOENT;
    this.setInState(name, 0);
    return 0;
  }

  /** Puts the exposed functions into a state being opened (in protected mode). */
  applyExposed(machine: Machine, L: number): void {
    this.exposed.applyAll(machine, this.machineValues(machine), L);
  }

  /** The persistent state's global `name` set to the exposed function `id` (0: nil); LUA_OK or a memory error. */
  private setInState(name: string, id: number): number {
    const machine = this.core.current();
    if (machine === null || machine.L === 0) return LUA_OK;
    const values = this.machineValues(machine);
    const status = machine.fns.protect(machine.L, (L) => this.exposed.setGlobal(machine, values, L, name, id));
    machine.image.api.lua_settop(machine.L, 0);
    return status;
  }

  private machineValues(machine: Machine): MachineValues {
    // The machine of the last call, almost always this one, without a WeakMap lookup.
    if (machine === this.lastMachine) return this.lastValues!;
    let values = this.perMachine.get(machine);
    if (values === undefined) {
      const { valueDepth, valueEntries } = this.core.options;
      values = new MachineValues(machine, { depth: valueDepth, entries: valueEntries }, (v, L) => this.exposed.dispatch(machine, v, L));
      this.perMachine.set(machine, values);
    }
    this.lastMachine = machine;
    this.lastValues = values;
    return values;
  }

  /** A registry reference to the function on top (popped): rc is the reference, or a negative errno. */
  private reference(machine: Machine, L: number): { rc: number; error: string } {
    let ref = 0;
    const status = machine.fns.protect(L, (L) => (ref = machine.image.api.luaL_ref(L, LUA_REGISTRYINDEX)), 1);
    if (status !== LUA_OK) return this.core.failure(machine, L, status);
    return { rc: ref, error: '' };
  }

  /**
   * The rest of every call: `status` says whether the function is on the stack (at index
   * `base`, the top) or the error that kept it from there is. Pushes the arguments, calls,
   * reads the results.
   */
  private invoke(machine: Machine, status: number, base: number): ValueResult {
    const L = machine.L;
    if (status !== LUA_OK) return this.core.failure(machine, L, status);
    const values = this.machineValues(machine);
    // Armed before anything allocates: a finalizer that runs then is script code too.
    machine.budget.start();
    try {
      // Numbers, booleans and nils are pushed while they are copied; anything that allocates
      // makes all of them go through the protected push instead.
      if (this.copyArgs(this.callArgs, L, values.toLua, base)) {
        machine.image.api.lua_settop(L, base);
        status = values.pushArgs(L, this.args, this.argCount);
      }
    } catch (e) {
      if (e instanceof CrossError) return failed(e.rc, e.message('args'));
      throw e;
    } finally {
      // Drop the references (without shrinking a small array, which costs more than this loop).
      if (this.argCount > MAX_KEPT_ARGS) this.args = [];
      else for (let i = 0; i < this.argCount; i++) this.args[i] = undefined;
    }
    if (status !== LUA_OK) return this.core.failure(machine, L, status);
    status = machine.image.api.lua_pcallk(L, this.argCount, LUA_MULTRET, 0, 0, 0);
    // A coroutine that hit the limit only made its resume fail: -ETIME however the script ended.
    if (status !== LUA_OK || machine.budget.limitExceeded) return this.core.failure(machine, L, status);
    const top = machine.image.api.lua_gettop(L);
    try {
      return { rc: top - base + 1, values: values.fromLua.readAll(L, base, top, this.strings) };
    } catch (e) {
      if (e instanceof CrossError) return failed(e.rc, e.message('values'));
      throw e;
    }
  }

  /**
   * Copies the caller's `args` (an array, or undefined for none) into this.args, pushing
   * them as it goes (above the function at `base`) while none may allocate; true when one
   * may, or when they are too many for the stack's free slots (the caller then pushes them
   * all in protected mode). Throws CrossError.
   */
  private copyArgs(args: unknown, L: number, toLua: ToLua, base: number): boolean {
    this.argCount = 0;
    if (args === undefined) return false;
    if (!Array.isArray(args) || isProxy(args)) throw invalid('must be an array (or undefined)');
    const n = args.length;
    if (n > MAX_ARGS) throw tooBig(`${n} arguments are more than a call takes (${MAX_ARGS})`);
    const copy = this.args;
    // Past the LUA_MINSTACK slots above the stack's start, the stack must be grown first: the protected push does.
    let allocates = base - 1 + n > SMALL_PUSH;
    for (let i = 0; i < n; i++) {
      let value: unknown;
      try {
        value = args[i];
      } catch (e) {
        throw invalid(`reading it threw ${describeThrown(e)}`).at(`[${i}]`);
      }
      copy[i] = value;
      this.argCount = i + 1;
      if (!allocates && !toLua.pushPlain(L, value)) allocates = true;
    }
    return allocates;
  }

  /** Reads the options object once (a getter runs at most once) into this.strings and this.chunkName; throws CrossError for a bad field. */
  private readOptions(options: unknown, named: boolean): void {
    this.strings = 'text';
    this.chunkName = DEFAULT_CHUNK;
    if (options === undefined || options === null) return;
    if (typeof options !== 'object') throw invalid('must be an object');
    let strings: unknown;
    let name: unknown;
    try {
      ({ strings, name } = options as { strings?: unknown; name?: unknown });
    } catch (e) {
      throw invalid(`reading it threw ${describeThrown(e)}`);
    }
    if (strings !== undefined && strings !== 'text' && strings !== 'bytes') throw invalid(`strings must be 'text' or 'bytes', got ${String(strings)}`);
    if (name !== undefined && (!named || typeof name !== 'string')) throw invalid(named ? 'name must be a string' : 'has no name here');
    this.strings = strings ?? 'text';
    if (name !== undefined) this.chunkName = `=${name}`;
  }

  /**
   * A bad options object is an answer; anything else thrown here is the host's JS stack
   * running out, for the kernel's last catch (the call may have left the state mid-call).
   */
  private rejected(e: unknown): ValueResult {
    if (e instanceof CrossError) return failed(e.rc, e.message('options'));
    throw e;
  }
}

/** A compiled chunk kept in the persistent state (kernel.load): call it again and again, release it once. */
export class LoadedFunction {
  private machine: Machine | null = null;
  private ref = 0;
  /** @internal Released, or the kernel is shut down. */
  released = false;

  /** @internal */
  constructor(private readonly owner: HandleOwner, readonly source: Uint8Array, readonly chunkName: string) {}

  /** Calls the function with `args` as its `...`; the same results and errnos as kernel.eval. Never throws. */
  call(args?: readonly unknown[], options?: ValueOptions): ValueResult {
    return this.owner.call(this, args, options);
  }

  /** Frees the function: 0, or -EBUSY while the kernel runs a call. Idempotent. */
  release(): number {
    return this.owner.release(this);
  }

  /** @internal The registry reference in `machine`'s state, or 0 if it has none there. */
  refIn(machine: Machine): number {
    return this.machine === machine ? this.ref : 0;
  }

  /** @internal */
  bind(machine: Machine | null, ref: number): void {
    this.machine = machine;
    this.ref = ref;
  }
}

