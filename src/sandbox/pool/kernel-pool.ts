/*
 * KernelPool: scripts run in parallel, one kernel per worker thread.
 *
 * Built on piscina, whose semantics fit this part exactly: a FIFO queue in front of a fixed
 * set of workers (minThreads = maxThreads), AbortSignal cancellation that drops a queued
 * task or, for a running one, terminates only the worker running it and starts a
 * replacement (so the pool keeps its size), and close() that lets running tasks finish.
 * What piscina does not give, a deadline counted from the task's start rather than its
 * submission, is a 16-byte shared flag per task: the worker stamps the start, the host
 * waits for it with Atomics.waitAsync and arms the deadline timer from there.
 *
 * KernelThread, not piscina, serves synchronous calls and per-thread ordering: piscina
 * answers through promises and the host's event loop, and a blocked caller has neither.
 *
 * Isolation: by default each worker's kernel runs every task in a fresh Lua state
 * (`isolate`), so no task sees globals another left, whichever worker ran it. With
 * `persistent: true` each worker keeps its own globals from task to task, and the pool is
 * made of lanes (lanes.ts) instead, so that `exec(code, { key })` can send all of one
 * key's tasks to the same worker.
 */
import { availableParallelism } from 'node:os';
import { Piscina } from 'piscina';
import { loadImage } from '../../../wasm/image.js';
import { errno, strerror } from '../errno.js';
import type { ExecResult } from '../kernel.js';
import { checkUserArgs } from '../user-copy.js';
import { uint8View } from '../../../wasm/lua-strings.js';
import { resolveThreadOptions, type ThreadOptions } from '../thread/options.js';
import { copyForMessage, epochNow } from '../thread/protocol.js';
import { Lanes } from './lanes.js';
import type { PoolTask, PoolWorkerData } from './pool-worker.js';
import { fromClone } from '../values/clone.js';
import type { StringMode } from '../values/from-lua.js';
import type { ValueResult } from '../values/value-calls.js';

export interface PoolOptions extends Omit<ThreadOptions, 'resultBytes' | 'bootTimeoutMs' | 'standby'> {
  /** Worker threads, each with its own kernel (default: os.availableParallelism()). */
  threads?: number;
  /**
   * Each worker keeps its globals from task to task (default false: every task runs in a
   * fresh state). Which worker runs a task without a key is not defined; tasks with the
   * same key run on the same worker.
   */
  persistent?: boolean;
}

export interface PoolExecOptions {
  /** With `persistent: true`: all tasks of one key run on the same worker, in order, and see its globals. */
  key?: string | number;
  /** Aborting it cancels the task: -EINTR; if it runs already, its worker is terminated and replaced. */
  signal?: AbortSignal;
  /** Chunk name in error messages, as Kernel.exec's `name`. */
  name?: string;
}

export interface PoolEvalOptions extends PoolExecOptions {
  /** How Lua strings come back, as Kernel.eval's option. */
  strings?: StringMode;
}

export type PoolCallOptions = Omit<PoolEvalOptions, 'name'>;

export interface PoolInfo {
  /** Workers alive now (replacements included once started). */
  threads: number;
  /** Tasks waiting for a worker. */
  queued: number;
  /** Workers terminated for a deadline or a cancelled running task. */
  kills: number;
}

/** Atomics.waitAsync (Node 16+; not in the ES2022 lib this project compiles against). */
const waitAsync = (Atomics as unknown as {
  waitAsync(array: Int32Array, index: number, value: number): { async: boolean; value: Promise<string> | string };
}).waitAsync;

const WORKER_FILE = new URL('./pool-worker.js', import.meta.url).href;

function failure(rc: number, error?: string): ExecResult {
  return { rc, error: error ?? strerror(rc) };
}

export class KernelPool {
  private down = false;
  private closed: Promise<void> | null = null;
  private kills = 0;

  /** One of the two: piscina's workers (fresh state per task) or persistent lanes. */
  private constructor(
    private readonly piscina: Piscina | null,
    private readonly lanes: Lanes | null,
    private readonly codeSizeLimit: number,
    private readonly deadlineMs: number,
  ) {}

  /** Starts the workers (they boot in the background; tasks wait for them). Throws on bad options. */
  static create(options: PoolOptions = {}): KernelPool {
    const { threads: requested, persistent = false, ...threadOptions } = options;
    if (typeof persistent !== 'boolean') throw new TypeError(`persistent must be a boolean, got ${String(persistent)}`);
    if (threadOptions.isolate === persistent) {
      throw new RangeError(`isolate: ${String(threadOptions.isolate)} contradicts persistent: ${String(persistent)} (a pool is isolated unless persistent)`);
    }
    const resolved = resolveThreadOptions({ ...threadOptions, isolate: !persistent });
    const threads = requested ?? availableParallelism();
    if (!Number.isSafeInteger(threads) || threads < 1 || threads > 1024) {
      throw new RangeError(`threads must be an integer from 1 to 1024, got ${String(requested)}`);
    }
    if (persistent) return new KernelPool(null, new Lanes(threads, { ...threadOptions, isolate: false }), resolved.kernel.codeSizeLimit, resolved.deadlineMs);
    const workerData: PoolWorkerData = { image: loadImage(), boot: resolved.boot, modules: resolved.modules };
    const piscina = new Piscina({
      filename: WORKER_FILE,
      minThreads: threads,
      maxThreads: threads,
      idleTimeout: Infinity,
      recordTiming: false,
      workerData,
    });
    // A worker that fails to boot fails its tasks (reported through exec); nothing else to report.
    piscina.on('error', () => undefined);
    return new KernelPool(piscina, null, resolved.kernel.codeSizeLimit, resolved.deadlineMs);
  }

  /** Runs `code` on the first free worker (its key's, with one); resolves (never rejects) with what Kernel.exec returns. */
  async exec(code: string | Uint8Array, options: PoolExecOptions = {}): Promise<ExecResult> {
    const refused = this.route(options.key);
    if (refused !== null) return refused;
    if (this.lanes !== null) return this.lanes.exec(code, options);
    const task = this.task(code, options.name);
    if (!('code' in task)) return task;
    return this.run(task, options.signal) as Promise<ExecResult>;
  }

  /**
   * Kernel.eval on the first free worker; resolves (never rejects) with what it returns.
   * Arguments and values cross by structured clone, then the kernel's mapping.
   */
  async eval(code: string | Uint8Array, args?: readonly unknown[], options: PoolEvalOptions = {}): Promise<ValueResult> {
    const refused = this.route(options.key);
    if (refused !== null) return refused;
    if (this.lanes !== null) return this.lanes.eval(code, args, options);
    const task = this.task(code, options.name);
    if (!('code' in task)) return task;
    return fromClone(await this.run({ ...task, op: 'eval', args, strings: options.strings }, options.signal));
  }

  /** Kernel.call on the first free worker, as eval. */
  async call(name: string, args?: readonly unknown[], options: PoolCallOptions = {}): Promise<ValueResult> {
    if (typeof name !== 'string') return failure(-errno.EINVAL, 'name must be a string');
    const refused = this.route(options.key);
    if (refused !== null) return refused;
    if (this.lanes !== null) return this.lanes.call(name, args, options);
    const task = this.task('', name);
    if (!('code' in task)) return task;
    return fromClone(await this.run({ ...task, op: 'call', args, strings: options.strings }, options.signal));
  }

  /** null when a task with this key may run here, else why not. */
  private route(key: unknown): ExecResult | null {
    if (this.down) return failure(-errno.ESHUTDOWN);
    if (key !== undefined && typeof key !== 'string' && typeof key !== 'number') return failure(-errno.EINVAL, 'key must be a string or a number');
    if (key !== undefined && this.lanes === null) return failure(-errno.EINVAL, 'keys route tasks to persistent workers: create the pool with persistent: true');
    return null;
  }

  /** The task for `code` (after route), checked and copied, or the failure that keeps it from running. */
  private task(code: string | Uint8Array, name: string | undefined): PoolTask | ExecResult {
    try {
      const size = typeof code === 'string' ? Buffer.byteLength(code) : uint8View(code)?.length ?? 0;
      const rc = checkUserArgs(code, size, null, 0, this.codeSizeLimit);
      if (rc !== 0) return failure(rc);
      return { code: copyForMessage(code, size), name, started: new SharedArrayBuffer(16) };
    } catch (e) {
      return failure(-errno.EFAULT, e instanceof Error ? e.message : String(e));
    }
  }

  /** Runs a task under the deadline and the caller's signal; resolves (never rejects) with the worker's answer. */
  private async run(task: PoolTask, signal: AbortSignal | undefined): Promise<ExecResult | ValueResult> {
    if (signal?.aborted) return failure(-errno.EINTR, 'cancelled before it ran');

    const flag = new Int32Array(task.started, 0, 1);
    const controller = new AbortController();
    let reason: 'deadline' | 'cancel' | null = null;
    let timer: NodeJS.Timeout | undefined;
    const onAbort = (): void => {
      reason ??= 'cancel';
      controller.abort();
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    void this.armDeadline(task.started, () => {
      if (Atomics.load(flag, 0) !== 1) return; // settled meanwhile
      reason ??= 'deadline';
      controller.abort();
    }).then((t) => (timer = t));
    try {
      return (await this.piscina!.run(task, { signal: controller.signal })) as ExecResult | ValueResult;
    } catch (e) {
      const started = Atomics.load(flag, 0) === 1;
      if (reason === 'deadline') {
        this.kills++;
        return failure(-errno.ETIME, `deadline of ${this.deadlineMs} ms exceeded; its worker was replaced`);
      }
      if (reason === 'cancel') {
        if (started) this.kills++;
        return failure(-errno.EINTR, started ? 'cancelled while running; its worker was replaced' : 'cancelled before it ran');
      }
      if (this.down) return failure(-errno.ESHUTDOWN, 'the kernel pool was closed');
      // Arguments that structured clone refuses (a function, a symbol) never left this thread.
      if (e instanceof Error && e.name === 'DataCloneError') return failure(-errno.EINVAL, `args: cannot cross to the kernel pool (${e.message})`);
      return failure(-errno.ECANCELED, `kernel pool worker failed: ${e instanceof Error ? e.message : String(e)}`);
    } finally {
      signal?.removeEventListener('abort', onAbort);
      clearTimeout(timer);
      Atomics.store(flag, 0, 2); // settled: releases armDeadline's wait
      Atomics.notify(flag, 0);
    }
  }

  /** Waits for the task's start, then arms its deadline; undefined if it settles first. */
  private async armDeadline(started: SharedArrayBuffer, expire: () => void): Promise<NodeJS.Timeout | undefined> {
    const flag = new Int32Array(started, 0, 1);
    const wait = waitAsync(flag, 0, 0);
    if (wait.async) await wait.value;
    if (Atomics.load(flag, 0) !== 1) return undefined;
    const startedAt = new Float64Array(started, 8, 1)[0]!;
    const timer = setTimeout(expire, Math.max(0, Math.ceil(startedAt + this.deadlineMs - epochNow())));
    timer.unref();
    return timer;
  }

  /** Queued tasks get -ESHUTDOWN; running ones finish (within their deadline); resolves when every worker has exited. */
  close(): Promise<void> {
    if (this.closed !== null) return this.closed;
    this.down = true;
    this.closed = this.lanes !== null ? this.lanes.close() : this.piscina!.close({ force: true });
    return this.closed;
  }

  info(): PoolInfo {
    if (this.lanes !== null) return this.lanes.info();
    return { threads: this.piscina!.threads.length, queued: this.piscina!.queueSize, kills: this.kills };
  }

  get isClosed(): boolean {
    return this.down;
  }
}
