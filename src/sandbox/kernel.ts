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
 * that: V8 throws a RangeError at any call once it is full. So each public entry has a last
 * catch that calls nothing (see `stackExhausted`); `running` is cleared only where a call
 * ends normally, which tells that catch whether the state was left mid-call.
 */
import { errorMessage, isHostStackOverflow } from '../../wasm/host-function.js';
import { LUA_ERRMEM, LUA_ERRRUN, LUA_ERRSYNTAX, LUA_OK, LUA_REGISTRYINDEX } from '../../wasm/lua-api.js';
import { ChunkCache, MAX_CACHED_SOURCE } from './chunk-cache.js';
import { uint8Length } from '../../wasm/lua-strings.js';
import type { LeakRecord, MemInfo, PoolStatistics, SlabInfo } from '../memory/index.js';
import { errno, errnoName, strerror } from './errno.js';
import { recycleMachine, startMachine, type Machine } from './machine.js';
import { KERN_EMERG, KERN_ERR, KernelLog, type LogRecord } from './klog.js';
import { resolveOptions, type BootOptions, type ResolvedOptions } from './options.js';
import { ORIGINAL_COLLECTGARBAGE, openState, StateMemoryError } from './state.js';
import { ModuleLoader, applyModule, declareModule, readModule, undeclareModule, unapplyModule, type ModuleInfo } from './modules.js';
import type { LunatikModule } from '../bindings/module.js';
import { checkUserArgs, copyFromUser, copyToUser, withoutTrailingNul, type UserCode, type UserResult } from './user-copy.js';

export interface ExecResult {
  /** sysLua's return value: the result's byte length, or a negative errno. */
  rc: number;
  /** The result decoded as UTF-8, when rc >= 0. */
  value?: string;
  /** The error message, when rc < 0. */
  error?: string;
}

/** What the last synchronous call cost. */
export interface CallStats {
  /** VM instructions charged, when an instruction budget or time limit is set (a multiple of 1000, or of the budget if smaller). */
  instructions?: number;
  /** Allocations (and reallocations) the Lua state made during the call. */
  allocations: number;
  /** Bytes the Lua state allocated during the call. */
  allocatedBytes: number;
  /** The most the state held at once during the call. */
  peakBytes: number;
  wallTimeMs: number;
}

export interface ShutdownReport {
  /** 0, or -EBUSY when called while the kernel runs a script (from a binding): nothing was shut down. */
  rc: number;
  /** Blocks still allocated after the state closed (empty on a clean shutdown), kmemleak-style. */
  leaks: LeakRecord[];
}

interface Outcome {
  rc: number;
  /** The result or error message bytes; a view valid until the next call into the image. */
  bytes: Uint8Array;
}

/** Bytes as a string, one character per byte: a key that tells any two byte sequences apart. */
function latin1(heap: Uint8Array, ptr: number, length: number): string {
  return Buffer.from(heap.buffer, heap.byteOffset + ptr, length).toString('latin1');
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

export const STACK_EXHAUSTED = 'the host JavaScript stack is too deep to make this call';

export class Kernel {
  private machine: Machine | null = null;
  private running = false;
  private down = false;
  private readonly workQueue: Uint8Array[] = [];
  private readonly modules = new ModuleLoader();
  private stats: CallStats | null = null;
  /** The pool's statistics at shutdown. */
  private final: PoolStatistics | null = null;
  private workScheduled = false;
  private resultLength = 0;
  readonly log: KernelLog;

  private constructor(private readonly options: ResolvedOptions) {
    this.log = new KernelLog(options.logCapacity);
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
    let entered = false;
    try {
      if (this.down) return -errno.ESHUTDOWN;
      if (this.running) return -errno.EBUSY;
      const rc = checkUserArgs(code, codeSz, result, resultSz, this.options.codeSizeLimit);
      if (rc !== 0) return rc;
      if (result === null && resultSz === 0) {
        this.queueWork(copyFromUser(code, codeSz));
        return 0;
      }
      entered = true;
      const outcome = this.run(code, codeSz, '=sysLua');
      this.resultLength = copyToUser(result, resultSz, outcome.bytes);
      return outcome.rc;
    } catch {
      // Only the host's JS stack running out gets here. Calls are off limits (see the header).
      // A re-entered call (from a binding) never set `running`: the outer call owns it.
      if (entered && this.running) {
        this.machine = null;
        this.running = false;
      }
      return -ENOMEM;
    }
  }

  /** Runs `code` and returns the result as text; `name` is the chunk name in error messages. */
  exec(code: string | Uint8Array, options: { name?: string } = {}): ExecResult {
    let entered = false;
    try {
      if (this.down) return { rc: -errno.ESHUTDOWN, error: strerror(-errno.ESHUTDOWN) };
      if (this.running) return { rc: -errno.EBUSY, error: strerror(-errno.EBUSY) };
      const size = typeof code === 'string' ? Buffer.byteLength(code) : uint8Length(code);
      const rc = checkUserArgs(code, size, null, 0, this.options.codeSizeLimit);
      if (rc !== 0) return { rc, error: strerror(rc) };
      entered = true;
      const outcome = this.run(code, size, options.name === undefined ? '=sysLua' : `=${options.name}`);
      const text = decoder.decode(outcome.bytes);
      return outcome.rc >= 0 ? { rc: outcome.rc, value: text } : { rc: outcome.rc, error: text || strerror(outcome.rc) };
    } catch {
      // As in sysLua: the host's JS stack ran out; nothing may be called here.
      if (entered && this.running) {
        this.machine = null;
        this.running = false;
      }
      return { rc: -ENOMEM, error: STACK_EXHAUSTED };
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
    const machine = this.machine;
    this.machine = null;
    if (machine === null) return { rc: 0, leaks: [] };
    try {
      // Finalizers run here, under the kernel's limits (see collect).
      if (machine.L !== 0) {
        machine.budget?.start(machine.L);
        machine.image.api.lua_close(machine.L);
      }
    } catch (e) {
      this.log.write(KERN_EMERG, `kernel panic during shutdown: ${errorMessage(e)}`);
      this.final = machine.pool.snapshot();
      return { rc: 0, leaks: machine.pool.leaks() };
    }
    this.final = machine.pool.snapshot();
    const leaks = machine.pool.leaks();
    recycleMachine(machine);
    return { rc: 0, leaks };
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
   * Full collections of L, under the kernel's limits: a finalizer a script planted runs
   * here, and must not hang the host (a budget error in a finalizer is a warning, as Lua
   * makes any error there). Every error of the collection itself is ignored.
   * A full cycle frees only every other spare CallInfo of a thread (luaE_shrinkCI), and the
   * survivors keep their slabs: after a deep recursion two cycles give back almost
   * nothing. So: at least two, then until a cycle frees nothing (log2 of the depth cycles).
   */
  private collect(machine: Machine, L: number): void {
    const { api } = machine.image;
    const { pool } = machine;
    machine.budget?.start(L);
    try {
      machine.fns.protect(L, (L) => {
        for (let pass = 0, before = Infinity; pass < MAX_GC_CYCLES && (pass < 2 || pool.usedBytes < before); pass++) {
          before = pool.usedBytes;
          api.lua_getfield(L, LUA_REGISTRYINDEX, machine.image.cstring(ORIGINAL_COLLECTGARBAGE));
          api.lua_callk(L, 0, 0, 0, 0);
        }
      });
      api.lua_settop(L, 0);
    } finally {
      machine.budget?.stop(L);
    }
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
    return this.stats;
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
    return openState(machine.image, machine.allocFn, machine.fns, machine.budget !== null, (L) => {
      for (const module of this.modules.modules) applyModule(module.name, machine, L);
    });
  }

  /**
   * Loads and runs the first codeSz bytes of `code`. Throws only when the host's JS stack
   * runs out in its own error handling, and then leaves `running` set (see the header).
   */
  private run(code: UserCode, codeSz: number, chunkName: string): Outcome {
    this.running = true;
    const outcome = this.runOnce(code, codeSz, chunkName);
    this.running = false;
    return outcome;
  }

  private runOnce(code: UserCode, codeSz: number, chunkName: string): Outcome {
    let machine: Machine | null = null;
    const started = performance.now();
    try {
      machine = this.machine ??= this.startMachine();
      const { pool } = machine;
      const allocatedBefore = pool.allocatedBytes;
      const allocationsBefore = pool.allocationCount;
      pool.resetPeak();
      try {
        return this.execute(machine, code, codeSz, chunkName);
      } finally {
        this.stats = {
          instructions: machine.budget?.instructionsCharged,
          allocations: pool.allocationCount - allocationsBefore,
          allocatedBytes: pool.allocatedBytes - allocatedBefore,
          peakBytes: pool.peakBytes,
          wallTimeMs: performance.now() - started,
        };
      }
    } catch (e) {
      if (e instanceof StateMemoryError) return { rc: -errno.ENOMEM, bytes: encoder.encode(e.message) };
      return this.panic(e);
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
  private panic(e: unknown): Outcome {
    this.machine = null;
    // The host's stack ran out under a Wasm frame: not the script's fault, and as -ENOMEM as
    // a call that found the stack full before it began.
    const stack = isHostStackOverflow(e);
    const message = `kernel panic: ${stack ? STACK_EXHAUSTED : errorMessage(e)}; the Lua state was discarded`;
    this.log.write(KERN_EMERG, message);
    return { rc: stack ? -errno.ENOMEM : -errno.ECANCELED, bytes: encoder.encode(message) };
  }

  private execute(machine: Machine, code: UserCode, codeSz: number, chunkName: string): Outcome {
    const { image, strings } = machine;
    const { api } = image;
    let ptr: number;
    let length: number;
    let key: string | null = null;
    // Text and byte sources are cached apart: the text "é" and the byte "\xe9" are different programs.
    const cache = chunkName !== '=sysLua' ? null : typeof code === 'string' ? machine.chunks?.text ?? null : machine.chunks?.bytes ?? null;
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
    if (ptr === 0) return { rc: -errno.ENOMEM, bytes: encoder.encode('not enough memory to copy the code in') };
    length = withoutTrailingNul(image.u8, ptr, length);

    if (machine.L === 0) machine.L = this.openState(machine);
    const L = machine.L;
    const failedBefore = machine.pool.failedAllocations;
    const cached = key === null ? undefined : cache!.get(key);
    let status: number;
    if (cached !== undefined) {
      api.lua_rawgeti(L, LUA_REGISTRYINDEX, cached);
      status = LUA_OK;
    } else {
      const load = (name: number) => api.luaL_loadbufferx(L, ptr, length, name, machine.textMode);
      // A caller's chunk name lives only for the load (Lua copies it): names never accumulate.
      status = chunkName === '=sysLua' ? load(machine.chunkName) : image.withCString(chunkName, NO_NAME_MEMORY, load);
      if (status === NO_NAME_MEMORY) return { rc: -errno.ENOMEM, bytes: encoder.encode('not enough memory for the chunk name') };
      if (status === LUA_OK && key !== null && cache!.wanted(key)) this.cacheChunk(machine, cache!, L, key);
    }
    // Armed until endCall: a result's __tostring runs under the same limits as the script.
    machine.budget?.start(L);
    if (status === LUA_OK) status = api.lua_pcallk(L, 0, 1, 0, 0, 0);
    // A coroutine that hit the limit only made its resume fail: the main thread may have
    // returned normally since. Exceeding is -ETIME however the script ended.
    if (machine.budget?.limitExceeded) return { rc: -errno.ETIME, bytes: encoder.encode(machine.budget.message) };
    if (status === LUA_OK) {
      const value = machine.results.result(L);
      if ('bytes' in value) return { rc: value.bytes.length, bytes: value.bytes };
      if ('invalid' in value) return { rc: -errno.EINVAL, bytes: encoder.encode(value.invalid) };
      return this.failure(machine, L, LUA_ERRRUN, value.failed, failedBefore);
    }
    return this.failure(machine, L, status, machine.results.message(L), failedBefore);
  }

  /** The errno of a failed call: the limits first, then memory (even if the script rethrew the error), then the status. */
  private failure(machine: Machine, L: number, status: number, message: string, failedBefore: number): Outcome {
    if (machine.budget?.limitExceeded) return { rc: -errno.ETIME, bytes: encoder.encode(machine.budget.message) };
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
    if (machine.L === 0) return;
    machine.budget?.stop(machine.L);
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
