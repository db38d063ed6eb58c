/*
 * The kernel: one Lua image, one sandboxed state (or a fresh one per call with
 * `isolate`), and sysLua, the only way in.
 *
 * Invariants: sysLua never throws; while a script runs, `running` is set and any other
 * entry (shutdown included) returns -EBUSY; after every call the Lua stack is empty; an
 * exception that reaches this level means the image is broken, so the whole instance is
 * dropped and the next call boots a new one (the host process never dies with it).
 *
 * The host's own JS stack can run out anywhere, even inside the handlers that deal with
 * that: V8 throws a RangeError at any call once it is full. So each public entry, and
 * `enter` around every call into the state, has a last catch that calls nothing (it only
 * assigns and returns constants); `enter`'s drops the state, which may have been cut mid-call.
 */
import { errorMessage, isHostStackOverflow } from '../../wasm/host-function.js';
import { LUA_ERRMEM, LUA_ERRRUN, LUA_ERRSYNTAX, LUA_MULTRET, LUA_OK, LUA_REGISTRYINDEX } from '../../wasm/lua-api.js';
import { ChunkCache, MAX_CACHED_SOURCE } from './chunk-cache.js';
import { uint8Length } from '../../wasm/lua-strings.js';
import type { LeakRecord, MemInfo, PoolStatistics, SlabInfo } from '../memory/index.js';
import { errno, errnoName, STACK_EXHAUSTED, STACK_FAILURE, strerror } from './errno.js';
import { recycleMachine, startMachine, type Machine } from './machine.js';
import { KERN_EMERG, KERN_ERR, KernelLog, type LogRecord } from './klog.js';
import { resolveOptions, type BootOptions, type ResolvedOptions } from './options.js';
import { LiteralFormatter } from './lua-literal.js';
import type { CallOptions } from './protected-call.js';
import { ORIGINAL_COLLECTGARBAGE, openState, StateMemoryError } from './state.js';
import { ModuleLoader, applyModule, declareModule, readModule, undeclareModule, unapplyModule, type ModuleInfo } from './modules.js';
import type { LunatikModule } from '../bindings/module.js';
import { checkUserArgs, copyFromUser, copyToUser, withoutTrailingNul, type UserCode, type UserResult } from './user-copy.js';
import {
  ValueCalls, type EvalOptions, type HandleRecord, type LoadedFunction, type LoadResult, type ValueOptions, type ValueResult,
} from './values/value-calls.js';
import type { HostFunction } from './values/exposed.js';

export interface ExecResult {
  /** sysLua's return value: the result's byte length, or a negative errno. */
  rc: number;
  /** The result decoded as UTF-8, when rc >= 0. */
  value?: string;
  /** The error message, when rc < 0. */
  error?: string;
  /** With `{ traceback: true }`, after a runtime error: Lua's `stack traceback:` text at the error. */
  traceback?: string;
}

export interface ExecOptions {
  /**
   * The chunk name in error messages and tracebacks (default `sysLua`). A name starting
   * with `@` is a file name, as in Lua's own chunk names: shown without the `@`, shortened
   * from the left when long (`...dir/script.lua`).
   */
  name?: string;
  /** Record a traceback of a runtime error (luaL_traceback from the message handler, as `lua` prints it). */
  traceback?: boolean;
  /**
   * The chunk's `...`, as strings (as `lua` passes a script its command-line arguments).
   * Given, even empty, the chunk is called from a C function as lua.c calls it, so a
   * traceback ends with `[C]: in ?` as lua's does.
   */
  args?: readonly string[];
}

/** What `show` returns: every value of the chunk as a REPL shows it. */
export interface ShowResult {
  /** The number of values returned, or a negative errno as for sysLua. */
  rc: number;
  /** Each returned value as `print` writes it, except tables: in Lua's literal form (`{ 1, 2, x = "y" }`), depth-limited. */
  values?: string[];
  error?: string;
  traceback?: string;
}

/** What the last synchronous call cost. */
export interface CallStats {
  /** Fuel the call used: Lua instructions plus the units of metered C loops; exact, the same in every run. */
  instructions: number;
  /** Allocations (and reallocations) the Lua state made during the call. */
  allocations: number;
  /** Bytes the Lua state allocated during the call. */
  allocatedBytes: number;
  /** The most the state held at once during the call. */
  peakBytes: number;
  /**
   * Wall-clock time of a sysLua or exec call. The value bridge's calls (eval, call,
   * fn.call) leave it out: reading the clock twice costs about as much as such a call.
   */
  wallTimeMs?: number;
}

export interface ShutdownReport {
  /** 0, or -EBUSY when called while the kernel runs a script (from a binding): nothing was shut down. */
  rc: number;
  /** Blocks still allocated after the state closed (empty on a clean shutdown), kmemleak-style. */
  leaks: LeakRecord[];
  /** Functions from kernel.load never released (they went away with the state); absent when there are none. */
  handles?: HandleRecord[];
}

interface Outcome {
  rc: number;
  /** The result or error message bytes; a view valid until the next call into the image. */
  bytes: Uint8Array;
  /** With `all`: every returned value, shown. */
  values?: string[];
}

/** How `run` calls the chunk, beyond sysLua's plain call. */
interface CallRequest extends CallOptions {
  /** Show every returned value (show) instead of converting the first (sysLua, exec). */
  readonly all?: boolean;
}

const PLAIN_CALL: CallRequest = {};

/** A failed exec or show. */
interface Failed {
  rc: number;
  error: string;
  traceback?: string;
}

/** Bytes as a string, one character per byte: a key that tells any two byte sequences apart. */
function latin1(heap: Uint8Array, ptr: number, length: number): string {
  return Buffer.from(heap.buffer, heap.byteOffset + ptr, length).toString('latin1');
}

/** Lua's chunk name for an exec name: `=name` (shown as is), or a file name `@path` kept. */
function chunkName(name: string | undefined): string {
  if (name === undefined) return '=sysLua';
  return name.startsWith('@') ? name : `=${name}`;
}

function describeModule(module: unknown): string {
  try {
    const name = (module as { name?: unknown } | null)?.name;
    return typeof name === 'string' ? `'${name}'` : String(module);
  } catch {
    return 'that cannot be read';
  }
}

const decoder = new TextDecoder();
const encoder = new TextEncoder();
/** Enough cycles to halve a CallInfo list of any depth the Lua stack allows (LUAI_MAXSTACK) down to nothing. */
const MAX_GC_CYCLES = 24;

/** What a call gets when the host's JS stack is too deep to make it (read without a call). */
const ENOMEM = errno.ENOMEM;
const STACK_OUTCOME: Outcome = Object.freeze({ rc: -ENOMEM, bytes: encoder.encode(STACK_EXHAUSTED) });
/** What a kernel shut down without a pool (it had panicked, and nothing booted a new one) shows. */
const NO_POOL: PoolStatistics = {
  meminfo: () => ({
    totalPages: 0, freePages: 0, usedBytes: 0, peakBytes: 0, failedAllocations: 0,
    byType: { strings: 0, tables: 0, closures: 0, userdata: 0, threads: 0, others: 0 },
  }),
  buddyinfo: () => [],
  slabinfo: () => [],
  formatMeminfo: () => '',
  formatBuddyinfo: () => '',
  formatSlabinfo: () => '',
};

/** withCString's answer when the image cannot hold a chunk name (no Lua status is negative). */
const NO_NAME_MEMORY = -1;

function outcome(rc: number, message: string): Outcome {
  return { rc, bytes: encoder.encode(message) };
}

/** The value bridge's entries (Kernel.bridge); those from RELEASE on answer a bare errno. */
const enum Bridge { EVAL, CALL, LOAD, CALL_LOADED, RELEASE, EXPOSE, UNEXPOSE }

export class Kernel {
  private machine: Machine | null = null;
  private running = false;
  private down = false;
  private readonly workQueue: Uint8Array[] = [];
  private readonly modules = new ModuleLoader();
  /** The last call's cost, filled in place (a call allocates no record for it); lastStats copies it. */
  private readonly stats: CallStats = { instructions: 0, allocations: 0, allocatedBytes: 0, peakBytes: 0, wallTimeMs: undefined };
  private costed = false;
  /** The pool's statistics at shutdown. */
  private final: PoolStatistics | null = null;
  private workScheduled = false;
  private resultLength = 0;
  /** The pool's failed allocations when the running call's state was ready (failure() tells memory errors by them). */
  private failedBefore = 0;
  readonly log: KernelLog;

  private readonly values: ValueCalls;

  private constructor(private readonly options: ResolvedOptions) {
    this.log = new KernelLog(options.logCapacity);
    this.values = new ValueCalls({
      options,
      handles: {
        call: (handle, args, options) => this.bridge(Bridge.CALL_LOADED, handle, args, options) as ValueResult,
        release: (handle) => this.bridge(Bridge.RELEASE, handle) as number,
      },
      gate: () => (this.down ? -errno.ESHUTDOWN : this.running ? -errno.EBUSY : 0),
      current: () => this.machine,
      enter: (body, failed, exhausted) => this.enter(body, failed, exhausted, false),
      load: (machine, code, codeSz, chunkName) => this.loadChunk(machine, code, codeSz, chunkName, true),
      state: (machine) => this.state(machine),
      failure: (machine, L, status) => {
        const { rc, bytes } = this.failure(machine, L, status, status === LUA_OK ? '' : machine.results.message(L), this.failedBefore);
        return { rc, error: decoder.decode(bytes) || strerror(rc) };
      },
    });
  }

  /** Boots a kernel synchronously: instance, state and libraries. Throws on bad options. */
  static boot(options?: BootOptions): Kernel {
    const resolved = resolveOptions(options);
    const kernel = new Kernel(resolved);
    for (const given of resolved.modules) {
      const module = readModule(given);
      const rc = module === null ? -errno.EINVAL : kernel.modules.check(module);
      if (rc !== 0) throw new RangeError(`cannot load module ${describeModule(given)} at boot: ${errnoName(rc)} (${strerror(rc)})`);
      kernel.modules.add(module!);
    }
    kernel.machine = kernel.startMachine();
    return kernel;
  }

  /** Loads a module: 0, or -EEXIST, -ENOENT (a dependency is missing), -EINVAL (not a module), -ENOMEM, -EBUSY, -ESHUTDOWN. */
  insmod(given: LunatikModule): number {
    if (this.down) return -errno.ESHUTDOWN;
    if (this.running) return -errno.EBUSY;
    const module = readModule(given);
    if (module === null) return -errno.EINVAL;
    const rc = this.modules.check(module);
    if (rc !== 0) return rc;
    this.modules.add(module);
    const machine = this.machine;
    if (machine === null) return 0;
    try {
      declareModule(module, machine);
    } catch (e) {
      this.modules.remove(module.name);
      this.log.write(KERN_ERR, `insmod ${module.name}: ${errorMessage(e)}`);
      return -errno.EINVAL;
    }
    if (machine.L !== 0 && machine.fns.protect(machine.L, (L) => applyModule(module.name, machine, L)) !== LUA_OK) {
      machine.image.api.lua_settop(machine.L, 0);
      this.modules.remove(module.name);
      undeclareModule(module, machine, machine.removedStub);
      return -errno.ENOMEM;
    }
    return 0;
  }

  /** Removes a module and what it put into the Lua state: 0, or -ENOENT, -EBUSY (in use), -ESHUTDOWN. */
  rmmod(name: string): number {
    if (this.down) return -errno.ESHUTDOWN;
    if (this.running) return -errno.EBUSY;
    const removed = this.modules.remove(name);
    if (typeof removed === 'number') return removed;
    const machine = this.machine;
    if (machine !== null) {
      if (machine.L !== 0) {
        machine.fns.protect(machine.L, (L) => unapplyModule(name, machine, L));
        machine.image.api.lua_settop(machine.L, 0);
      }
      undeclareModule(removed, machine, machine.removedStub);
    }
    return 0;
  }

  /** The loaded modules in load order, with their dependencies and users. */
  lsmod(): ModuleInfo[] {
    return this.modules.list();
  }

  /** The syscall. Never throws; see the contract in DESIGN.md. */
  sysLua(code: UserCode, codeSz: number, result: UserResult, resultSz: number): number {
    try {
      if (this.down) return -errno.ESHUTDOWN;
      if (this.running) return -errno.EBUSY;
      const rc = checkUserArgs(code, codeSz, result, resultSz, this.options.codeSizeLimit);
      if (rc !== 0) return rc;
      if (result === null && resultSz === 0) {
        this.queueWork(copyFromUser(code, codeSz));
        return 0;
      }
      const outcome = this.run(code, codeSz, '=sysLua');
      this.resultLength = copyToUser(result, resultSz, outcome.bytes);
      return outcome.rc;
    } catch {
      // Only the host's JS stack running out gets here (see the header): no calls.
      return -ENOMEM;
    }
  }

  /** Runs `code` and returns the result as text. */
  exec(code: string | Uint8Array, options: ExecOptions = {}): ExecResult {
    return this.runText(code, options, false, (outcome) => ({ rc: outcome.rc, value: decoder.decode(outcome.bytes) }));
  }

  /**
   * Runs `code` and shows every value it returns, as a REPL does: `print`'s text, but
   * tables in Lua's literal form. The same limits as exec; a __tostring runs under them.
   */
  show(code: string | Uint8Array, options: ExecOptions = {}): ShowResult {
    return this.runText(code, options, true, (outcome) => ({ rc: outcome.rc, values: outcome.values ?? [] }));
  }

  /** exec and show: sysLua's checks, the run, a failure as message (and traceback), or `done` of a success. */
  private runText<T>(code: string | Uint8Array, options: ExecOptions, all: boolean, done: (outcome: Outcome) => T): T | Failed {
    try {
      if (this.down) return { rc: -errno.ESHUTDOWN, error: strerror(-errno.ESHUTDOWN) };
      if (this.running) return { rc: -errno.EBUSY, error: strerror(-errno.EBUSY) };
      const size = typeof code === 'string' ? Buffer.byteLength(code) : uint8Length(code);
      const rc = checkUserArgs(code, size, null, 0, this.options.codeSizeLimit);
      if (rc !== 0) return { rc, error: strerror(rc) };
      const outcome = this.run(code, size, chunkName(options.name), { ...options, all });
      if (outcome.rc >= 0) return done(outcome);
      const failed: Failed = { rc: outcome.rc, error: decoder.decode(outcome.bytes) || strerror(outcome.rc) };
      const trace = options.traceback === true ? this.machine?.fns.calls.takeTraceback() : undefined;
      if (trace !== undefined) failed.traceback = trace;
      return failed;
    } catch {
      // As in sysLua: the host's JS stack ran out; nothing may be called here.
      return STACK_FAILURE;
    }
  }

  /**
   * Runs `code` with `args` as its `...` and returns its values (DESIGN.md's mapping). The
   * chunk cache applies: the same source with new arguments never compiles again.
   * `{ rc, values?, error? }`: rc is the number of values, or sysLua's errnos plus -EINVAL
   * (a value that cannot cross) and -E2BIG (past limits.valueDepth or valueEntries). Never throws.
   */
  eval(code: string | Uint8Array, args?: readonly unknown[], options?: EvalOptions): ValueResult {
    return this.bridge(Bridge.EVAL, code, args, options) as ValueResult;
  }

  /** Calls the global function `name`, or `a.b.c` through tables (raw lookups); not a function: -ENOENT. As eval otherwise. */
  call(name: string, args?: readonly unknown[], options?: ValueOptions): ValueResult {
    return this.bridge(Bridge.CALL, name, args, options) as ValueResult;
  }

  /** Compiles `code` once: `fn.call(args?, options?)` runs it again and again, `fn.release()` frees it. Never throws. */
  load(code: string | Uint8Array, options?: { name?: string }): LoadResult {
    return this.bridge(Bridge.LOAD, code, options) as LoadResult;
  }

  /**
   * Makes `fn` the global function `name` in Lua (in every state, isolate mode's too):
   * arguments and its return value cross by the same mapping, what it throws becomes a Lua
   * error. 0, or -EINVAL, -ENOMEM, -EBUSY, -ESHUTDOWN.
   */
  expose(name: string, fn: HostFunction): number {
    return this.bridge(Bridge.EXPOSE, name, fn) as number;
  }

  /** Removes an exposed function (its global becomes nil): 0, or -ENOENT, -EBUSY, -ESHUTDOWN. */
  unexpose(name: string): number {
    return this.bridge(Bridge.UNEXPOSE, name) as number;
  }

  /**
   * Every entry of the value bridge, behind the same last catch as sysLua's: only the host's
   * JS stack running out gets there, and nothing may be called in it (see the header).
   */
  private bridge(op: Bridge, a: unknown, b?: unknown, c?: unknown): ValueResult | LoadResult | number {
    try {
      switch (op) {
        case Bridge.EVAL: return this.values.eval(a, b, c);
        case Bridge.CALL: return this.values.call(a, b, c);
        case Bridge.LOAD: return this.values.load(a, b);
        case Bridge.CALL_LOADED: return this.values.callLoaded(a as LoadedFunction, b, c);
        case Bridge.RELEASE: return this.values.release(a as LoadedFunction);
        case Bridge.EXPOSE: return this.values.expose(a, b);
        default: return this.values.unexpose(a);
      }
    } catch {
      // The host's JS stack ran out outside enter (which drops a state cut mid-call): no calls here.
      return op >= Bridge.RELEASE ? -ENOMEM : STACK_FAILURE;
    }
  }

  /** The kernel log, oldest record first. */
  dmesg(): LogRecord[] {
    return this.log.read();
  }

  /** Closes the state (running its finalizers) and reports what it left allocated. Idempotent. */
  shutdown(): ShutdownReport {
    if (this.down) return { rc: 0, leaks: [] };
    // From a binding, mid-call: closing the state under the running VM (and recycling the
    // instance into the next boot) would break both kernels. Refused, as rmmod is.
    if (this.running) return { rc: -errno.EBUSY, leaks: [] };
    this.down = true;
    this.workQueue.length = 0;
    // Listed only when there are some: a clean shutdown's report stays { rc: 0, leaks: [] }.
    const unreleased = this.values.shutdown();
    const handles = unreleased.length > 0 ? { handles: unreleased } : {};
    const machine = this.machine;
    this.machine = null;
    if (machine === null) return { rc: 0, leaks: [], ...handles };
    try {
      // Finalizers run here, under the kernel's limits (see collect).
      if (machine.L !== 0) {
        machine.budget.start();
        machine.image.api.lua_close(machine.L);
      }
    } catch (e) {
      this.log.write(KERN_EMERG, `kernel panic during shutdown: ${errorMessage(e)}`);
      this.final = machine.pool.snapshot();
      return { rc: 0, leaks: machine.pool.leaks(), ...handles };
    }
    this.final = machine.pool.snapshot();
    const leaks = machine.pool.leaks();
    recycleMachine(machine);
    return { rc: 0, leaks, ...handles };
  }

  /**
   * A full garbage collection of the persistent state, then empty slabs go back to the
   * buddy allocator (drop_caches, in Linux's words). Returns the pool's used pages after.
   * Scripts cannot do this themselves: collectgarbage answers only "count".
   */
  gc(): number {
    if (this.down) return -errno.ESHUTDOWN;
    if (this.running) return -errno.EBUSY;
    this.running = true;
    try {
      const machine = this.machine ??= this.startMachine();
      if (machine.L !== 0) this.collect(machine, machine.L);
      machine.pool.shrink();
      return machine.pool.usedPages();
    } catch (e) {
      return this.panic(e).rc;
    } finally {
      this.running = false;
    }
  }

  /**
   * Full collections of L under the kernel's limits: a finalizer a script planted runs here
   * and must not hang the host (a budget error in a finalizer is a warning, as Lua makes
   * any error there). A full cycle frees only every other spare CallInfo of a thread
   * (luaE_shrinkCI), and the survivors keep their slabs: after a deep recursion one or two
   * cycles give back almost nothing, so it collects until a cycle frees nothing (log2 of
   * the depth cycles). Every error of the collection itself is ignored.
   */
  private collect(machine: Machine, L: number): void {
    const { api } = machine.image;
    const { pool } = machine;
    machine.budget.start();
    machine.fns.protect(L, (L) => {
      for (let pass = 0, before = Infinity; pass < MAX_GC_CYCLES && (pass < 2 || pool.usedBytes < before); pass++) {
        before = pool.usedBytes;
        api.lua_getfield(L, LUA_REGISTRYINDEX, machine.image.cstring(ORIGINAL_COLLECTGARBAGE));
        api.lua_callk(L, 0, 0, 0, 0);
      }
    });
    api.lua_settop(L, 0);
  }

  /** Memory statistics of the pool, as /proc/meminfo shows them (after shutdown: as the pool was then). */
  meminfo(): MemInfo {
    return this.statistics().meminfo();
  }

  /** Free blocks per buddy order (0..10), as /proc/buddyinfo shows them. */
  buddyinfo(): number[] {
    return this.statistics().buddyinfo();
  }

  /** The size-class caches, as /proc/slabinfo shows them. */
  slabinfo(): SlabInfo[] {
    return this.statistics().slabinfo();
  }

  /** The text of /proc/meminfo, /proc/buddyinfo or /proc/slabinfo for this kernel's pool. */
  proc(file: 'meminfo' | 'buddyinfo' | 'slabinfo'): string {
    const statistics = this.statistics();
    switch (file) {
      case 'meminfo': return statistics.formatMeminfo();
      case 'buddyinfo': return statistics.formatBuddyinfo();
      case 'slabinfo': return statistics.formatSlabinfo();
      default: throw new RangeError(`no such proc file: ${String(file)}`);
    }
  }

  /** The live pool, or after shutdown the snapshot taken then (the pool itself serves another kernel). */
  private statistics(): PoolStatistics {
    if (this.final !== null) return this.final;
    if (this.down) return NO_POOL;
    this.machine ??= this.startMachine();
    return this.machine.pool;
  }

  /** Byte length of the last synchronous sysLua's whole result or error message (its `n` before snprintf truncation). */
  get lastResultLength(): number {
    return this.resultLength;
  }

  /** What the last synchronous call cost (null before the first). */
  get lastStats(): CallStats | null {
    return this.costed ? { ...this.stats } : null;
  }

  get isShutdown(): boolean {
    return this.down;
  }

  private startMachine(): Machine {
    const machine = startMachine(this.options, this.log, this.modules.modules);
    if (!this.options.isolate) machine.L = this.openState(machine);
    return machine;
  }

  private openState(machine: Machine): number {
    return openState(machine.image, machine.allocFn, machine.fns, (L) => {
      for (const module of this.modules.modules) applyModule(module.name, machine, L);
      this.values.applyExposed(machine, L);
    });
  }

  /** Loads and runs the first codeSz bytes of `code` (see enter). */
  private run(code: UserCode, codeSz: number, chunkName: string, request = PLAIN_CALL): Outcome {
    return this.enter((machine) => this.execute(machine, code, codeSz, chunkName, request), outcome, STACK_OUTCOME);
  }

  /**
   * One call into the machine, whatever it does (`body`): the busy flag, the call's stats,
   * a panic, and endCall are handled here for every kind of call. Never throws: when the
   * host's JS stack runs out, even in enterOnce's own error handling, the call answers
   * `exhausted`, and the state, which may have been cut mid-call, is dropped. `timed`:
   * measure wallTimeMs.
   */
  private enter<T>(body: (machine: Machine) => T, failed: (rc: number, message: string) => T, exhausted: T, timed = true): T {
    this.running = true;
    try {
      const result = this.enterOnce(body, failed, timed);
      this.running = false;
      return result;
    } catch {
      // No calls here (see the header).
      this.machine = null;
      this.running = false;
      return exhausted;
    }
  }

  private enterOnce<T>(body: (machine: Machine) => T, failed: (rc: number, message: string) => T, timed: boolean): T {
    let machine: Machine | null = null;
    const started = timed ? performance.now() : 0;
    try {
      machine = this.machine ??= this.startMachine();
      const { pool } = machine;
      const allocatedBefore = pool.allocatedBytes;
      const allocationsBefore = pool.allocationCount;
      pool.resetPeak();
      try {
        return body(machine);
      } finally {
        const { stats } = this;
        stats.instructions = machine.budget.used;
        stats.allocations = pool.allocationCount - allocationsBefore;
        stats.allocatedBytes = pool.allocatedBytes - allocatedBefore;
        stats.peakBytes = pool.peakBytes;
        stats.wallTimeMs = timed ? performance.now() - started : undefined;
        this.costed = true;
      }
    } catch (e) {
      if (e instanceof StateMemoryError) return failed(-errno.ENOMEM, e.message);
      // The image traps when one operation overruns a spent budget where no error can be raised (lfuel.c).
      const panic = machine?.budget.limitExceeded ? this.panic(e, -errno.ETIME, machine.budget.message) : this.panic(e);
      return failed(panic.rc, panic.message);
    } finally {
      try {
        if (machine !== null && this.machine === machine) this.endCall(machine);
      } catch (e) {
        this.panic(e);
      }
    }
  }

  /**
   * Anything thrown up to here (a trap, a Lua panic, a JS stack overflow that cut through
   * Wasm frames) leaves the instance untrustworthy: drop it whole; the next call boots anew.
   */
  private panic(e: unknown, rc = -errno.ECANCELED, reason?: string): { rc: number; message: string } {
    this.machine = null;
    // The host's stack ran out under a Wasm frame: not the script's fault, and as -ENOMEM as
    // a call that found the stack full before it began.
    const stack = isHostStackOverflow(e);
    const message = `kernel panic: ${stack ? STACK_EXHAUSTED : reason ?? errorMessage(e)}; the Lua state was discarded`;
    this.log.write(KERN_EMERG, message);
    return { rc: stack ? -errno.ENOMEM : rc, message };
  }

  private execute(machine: Machine, code: UserCode, codeSz: number, chunkName: string, request: CallRequest): Outcome {
    let status = this.loadChunk(machine, code, codeSz, chunkName);
    const L = machine.L;
    // Armed until endCall: a result's __tostring runs under the same limits as the script.
    machine.budget.start();
    if (status === LUA_OK) status = machine.fns.calls.call(L, request.all === true ? LUA_MULTRET : 1, request);
    // A script may catch the budget error (pcall) and return normally, or a coroutine may
    // turn it into an ordinary error: exceeding is -ETIME however the script ended.
    if (machine.budget.limitExceeded) return outcome(-errno.ETIME, machine.budget.message);
    if (status === LUA_OK && request.all === true) return this.showValues(machine, L, this.failedBefore);
    if (status === LUA_OK) {
      const value = machine.results.result(L);
      if ('bytes' in value) return { rc: value.bytes.length, bytes: value.bytes };
      if ('invalid' in value) return outcome(-errno.EINVAL, value.invalid);
      return this.failure(machine, L, LUA_ERRRUN, value.failed, this.failedBefore);
    }
    return this.failure(machine, L, status, machine.results.message(L), this.failedBefore);
  }

  /**
   * Copies the code in, opens the state if there is none, and loads the code as text (from
   * the chunk cache when the name is the default one): returns the status, with the
   * function or the error message on top of the stack. `whole`: codeSz is all of `code`.
   */
  private loadChunk(machine: Machine, code: UserCode, codeSz: number, chunkName: string, whole = false): number {
    const { image, strings } = machine;
    let ptr: number;
    let length: number;
    let key: string | null = null;
    // Text and byte sources are cached apart: the text "é" and the byte "\xe9" are different programs.
    const cache = chunkName !== '=sysLua' ? null : typeof code === 'string' ? machine.chunks?.text ?? null : machine.chunks?.bytes ?? null;
    // A whole text source already cached needs neither copying in nor keying: one lookup.
    const hit = cache !== null && typeof code === 'string' ? cache.get(code) : undefined;
    if (hit !== undefined && (whole || Buffer.byteLength(code as string) === codeSz)) {
      image.api.lua_rawgeti(this.state(machine), LUA_REGISTRYINDEX, hit);
      return LUA_OK;
    }
    if (typeof code === 'string') {
      // codeSz + 1 UTF-16 units always encode to more than codeSz bytes, and the extra unit
      // keeps a surrogate pair cut at the boundary from encoding as U+FFFD.
      [ptr, length] = strings.encodeIn(code.length > codeSz + 1 ? code.slice(0, codeSz + 1) : code);
      if (length === codeSz && cache !== null) key = ChunkCache.key(code);
      length = Math.min(length, codeSz);
    } else {
      ptr = strings.copyIn(code, codeSz);
      length = codeSz;
      if (length <= MAX_CACHED_SOURCE && cache !== null) key = ChunkCache.key(latin1(image.u8, ptr, length));
    }
    if (ptr === 0) throw new StateMemoryError('not enough memory to copy the code in');
    length = withoutTrailingNul(image.u8, ptr, length);

    const L = this.state(machine);
    const cached = key === null ? undefined : cache!.get(key);
    if (cached !== undefined) {
      image.api.lua_rawgeti(L, LUA_REGISTRYINDEX, cached);
      return LUA_OK;
    }
    // A caller's chunk name lives only for the load (Lua copies it): names never accumulate.
    const status = chunkName === '=sysLua'
      ? image.api.luaL_loadbufferx(L, ptr, length, machine.chunkName, machine.textMode)
      : image.withCString(chunkName, NO_NAME_MEMORY, (name) => image.api.luaL_loadbufferx(L, ptr, length, name, machine.textMode));
    if (status === NO_NAME_MEMORY) throw new StateMemoryError('not enough memory for the chunk name');
    if (status === LUA_OK && key !== null && cache!.wanted(key)) this.cacheChunk(machine, cache!, L, key);
    return status;
  }

  /** The call's Lua state, opened now if there is none (isolate mode); notes the allocation failures so far. */
  private state(machine: Machine): number {
    if (machine.L === 0) machine.L = this.openState(machine);
    this.failedBefore = machine.pool.failedAllocations;
    return machine.L;
  }

  /** Every value on the stack, shown (in protected mode: showing may allocate or run __tostring). */
  private showValues(machine: Machine, L: number, failedBefore: number): Outcome {
    const formatter = new LiteralFormatter(machine.image, machine.strings);
    let values: string[] = [];
    const status = machine.fns.protect(L, (L) => { values = formatter.formatStack(L); }, machine.image.api.lua_gettop(L));
    if (machine.budget.limitExceeded) return { rc: -errno.ETIME, bytes: encoder.encode(machine.budget.message) };
    if (status !== LUA_OK) return this.failure(machine, L, status, machine.results.message(L), failedBefore);
    return { rc: values.length, bytes: new Uint8Array(0), values };
  }

  /** The errno of a failed call: the limits first, then memory (even if the script rethrew the error), then the status. */
  private failure(machine: Machine, L: number, status: number, message: string, failedBefore: number): Outcome {
    if (machine.budget.limitExceeded) return { rc: -errno.ETIME, bytes: encoder.encode(machine.budget.message) };
    const outOfMemory = status === LUA_ERRMEM || machine.pool.failedAllocations > failedBefore && message.endsWith('not enough memory');
    if (outOfMemory) this.dropChunks(machine, L);
    const rc = outOfMemory ? -errno.ENOMEM : status === LUA_ERRSYNTAX ? -errno.ENOEXEC : -errno.ECANCELED;
    return { rc, bytes: encoder.encode(message) };
  }

  /** Keeps the compiled chunk at the top of the stack in the cache (if the budget allows a registry slot). */
  private cacheChunk(machine: Machine, cache: ChunkCache, L: number, key: string): void {
    const { api } = machine.image;
    let ref = 0;
    api.lua_pushvalue(L, -1);
    if (machine.fns.protect(L, (L) => (ref = api.luaL_ref(L, LUA_REGISTRYINDEX)), 1) !== LUA_OK) {
      api.lua_settop(L, -2);
      return;
    }
    for (const old of cache.add(key, BigInt(ref))) api.luaL_unref(L, LUA_REGISTRYINDEX, Number(old));
  }

  /** Out of memory: the cached chunks are the first thing the state can do without. */
  private dropChunks(machine: Machine, L: number): void {
    const refs = machine.chunks === null ? [] : [...machine.chunks.text.clear(), ...machine.chunks.bytes.clear()];
    for (const ref of refs) machine.image.api.luaL_unref(L, LUA_REGISTRYINDEX, Number(ref));
  }

  /** Leaves the machine ready for the next call: empty stack, or no state at all in isolate mode. */
  private endCall(machine: Machine): void {
    const { api } = machine.image;
    // A fresh budget for the kernel's own work until the next call (finalizers at shutdown, gc()).
    machine.budget.start();
    if (machine.L === 0) return;
    if (this.options.isolate) {
      // The state is discarded, not closed: its finalizers never run and the pool is new again at once.
      machine.pool.reset();
      machine.L = 0;
    } else {
      api.lua_settop(machine.L, 0);
    }
  }

  private queueWork(code: Uint8Array): void {
    this.workQueue.push(code);
    if (this.workScheduled) return;
    this.workScheduled = true;
    setImmediate(() => this.drainWork());
  }

  /** Runs queued fire-and-forget work in submission order; values are discarded, as in lunatik-ng, failures logged. */
  private drainWork(): void {
    this.workScheduled = false;
    while (this.workQueue.length > 0 && !this.down) {
      if (this.running) {
        this.workScheduled = true;
        setImmediate(() => this.drainWork());
        return;
      }
      const code = this.workQueue.shift()!;
      const outcome = this.run(code, code.length, '=sysLua');
      // Nobody waits for the value, as in lunatik-ng; a failure is still worth a log record.
      if (outcome.rc < 0) this.log.write(KERN_ERR, `async sysLua: ${errnoName(outcome.rc)}: ${decoder.decode(outcome.bytes)}`);
    }
  }
}
