/*
 * KernelThread: a kernel in a worker thread of its own, with a hard deadline.
 *
 * Synchronous calls (sysLua, exec) stay synchronous for the caller: the code is copied
 * into shared memory (copy_from_user), the caller blocks in Atomics.wait until the reply
 * or the deadline, and the result is copied out like snprintf (copy_to_user). A script
 * that does not return by the deadline, even one stuck inside C where no hook fires,
 * makes the call return -ETIME at the deadline: the worker is terminated and a fresh one
 * with the same options (modules reloaded) replaces it: the standby worker, booted in the
 * background beforehand (unless `standby: false`), and a new standby starts booting. The
 * host never blocks past the deadline (plus the wake-up), except to wait for a
 * replacement still booting (kills faster than a boot).
 *
 * start() waits for the first boot with Atomics.waitAsync, so the event loop runs on;
 * spawn() blocks on it.
 *
 * Asynchronous work (sysLua with a null result and resultSz 0, `submit`) runs on the
 * thread's work queue in submission order, each item under the same deadline counted
 * from its start (a host timer watches it). Ordering with synchronous calls: a
 * synchronous call goes ahead of queued asynchronous work, as on an in-thread Kernel (whose
 * queue runs only when the host is idle) and as in lunatik-ng (the caller takes the lock
 * between two work items); it waits only for the item running at that moment, within its
 * own deadline, and returns -ETIME without having run (and without a kill) if that item
 * holds the thread past it.
 * While the host is blocked in a synchronous call, its timers cannot run: a running async
 * item's deadline is then enforced late, as soon as the call returns.
 *
 * node:worker_threads directly, not a pool library: the caller must block on the worker's
 * own shared memory (a promise would need the event loop the caller is blocking), and a
 * hard kill must be `worker.terminate()` of exactly this worker, the only thing that stops
 * a script stuck inside Wasm code that never returns to JS.
 *
 * Async item ids live in Int32 words of the shared area: a thread serves 2^31 - 1
 * asynchronous items in its life.
 */
import { receiveMessageOnPort } from 'node:worker_threads';
import { copyToUser, checkUserArgs, type UserCode, type UserResult } from '../user-copy.js';
import { errno, STACK_FAILURE, strerror } from '../errno.js';
import type { CallStats, ExecResult, ShutdownReport } from '../kernel.js';
import { fromClone } from '../values/clone.js';
import type { StringMode } from '../values/from-lua.js';
import type { EvalOptions, ValueOptions, ValueResult } from '../values/value-calls.js';
import type { LeakRecord } from '../../memory/index.js';
import { uint8View } from '../../../wasm/lua-strings.js';
import { Incarnation, MAX_UNREAPED } from './incarnation.js';
import { pollUntil, SpinPolicy } from './spin.js';
import { resolveThreadOptions, type ResolvedThreadOptions, type ThreadOptions } from './options.js';
import {
  CLOSING, copyForMessage, epochNow, F64, Kind, REQ_MESSAGE, RES_MESSAGE, Slot, STAT_KEYS, SyncState,
  type FromWorker, type SyncReplyMessage, type SyncRequestMessage, type ToWorker, type ValueWork,
} from './protocol.js';

export type { ThreadOptions } from './options.js';

export interface SubmitOptions {
  /** Aborting it cancels the work: -EINTR, without running it if it has not started; a running item's worker is killed. */
  signal?: AbortSignal;
  /** Chunk name in error messages, as Kernel.exec's `name`. */
  name?: string;
}

export interface ThreadShutdownReport extends ShutdownReport {
  /**
   * The worker had to be terminated (a finalizer or a running item outlived the deadline,
   * or the thread was still booting): the state was discarded whole, without a leak report.
   */
  killed: boolean;
}

export interface ThreadInfo {
  /** The worker has booted and serves calls. */
  ready: boolean;
  /** What the worker runs right now: an asynchronous item, its shutdown, or nothing (a synchronous call never shows: the host is blocked in it). */
  running: 'work' | 'shutdown' | null;
  /** Asynchronous items submitted and not finished (the running one included). */
  queued: number;
  /** Workers terminated so far (deadlines, cancellations of running work, kills). */
  kills: number;
  /** The current worker's threadId. */
  threadId: number;
  /** A standby worker has booted and will replace the current one at once after a kill. */
  standby: boolean;
}

interface Work {
  id: number;
  message: Extract<ToWorker, { t: 'work' }>;
  /** Called with what exec returns, or, for an eval or a call, with what they return. */
  resolve: ((result: ExecResult & ValueResult) => void) | null;
  cleanup: (() => void) | null;
}

interface Closing {
  promise: Promise<ThreadShutdownReport>;
  resolve: (report: ThreadShutdownReport) => void;
  done: boolean;
}

interface Reply {
  rc: number;
  /** sysLua: the bytes to copy out (at most resultSz - 1). */
  bytes: Uint8Array;
  /** exec: the value or message. */
  text: string;
  /** eval and call: the values. */
  values?: unknown[] | undefined;
}

/** What eval and call send beside the code: the arguments, by structured clone. */
interface Payload {
  args: unknown[] | undefined;
  strings: StringMode;
}

/** How long a synchronous caller polls for the reply before sleeping in Atomics.wait, at most (µs; see spin.ts). */
const SPIN_US = 20;
const encoder = new TextEncoder();
const NOT_LAUNCHED = `more than ${MAX_UNREAPED} killed kernel threads wait for the event loop to reap them; the replacement starts once the host yields`;
const NO_BYTES = new Uint8Array(0);

/** Read without a call, for catches that run when the host's JS stack is full. */
const ENOMEM = errno.ENOMEM;
const ECANCELED = errno.ECANCELED;

function execResult(rc: number, text: string): ExecResult {
  return rc >= 0 ? { rc, value: text } : { rc, error: text || strerror(rc) };
}

function valueResult(rc: number, text: string, values?: unknown[]): ValueResult {
  return rc >= 0 ? fromClone({ rc, values: values ?? [] }) : { rc, error: text || strerror(rc) };
}

/** What queued work resolves with: exec's result, or for an eval or a call theirs (values restored by the caller). */
function workResult(valued: boolean, rc: number, text: string, values?: unknown[]): ExecResult & ValueResult {
  if (rc < 0) return { rc, error: text || strerror(rc) };
  return valued ? { rc, values: values ?? [] } : { rc, value: text };
}

function hostReply(rc: number, message: string): Reply {
  return { rc, bytes: encoder.encode(message), text: message };
}

/** copy_from_user into the shared code area; `code` and `codeSz` are checked. */
function writeCode(area: Uint8Array, code: UserCode, codeSz: number): void {
  if (typeof code === 'string') {
    if (encoder.encodeInto(code, area.subarray(0, codeSz)).written === codeSz) return;
    // codeSz cuts a multibyte character: copy its first bytes, as Kernel.sysLua would run them.
    area.set(Buffer.from(code, 'utf8').subarray(0, codeSz));
  } else {
    area.set(uint8View(code, codeSz)!);
  }
}

/** Atomics.waitAsync (Node 16+; not in the ES2022 lib this project compiles against). */
const waitAsync = (Atomics as unknown as {
  waitAsync(array: Int32Array, index: number, value: number, timeout?: number): { async: boolean; value: Promise<string> | string };
}).waitAsync;

export class KernelThread {
  private inc: Incarnation;
  /** A worker booting or booted in the background, promoted by the next restart (null: none or disabled). */
  private standby: Incarnation | null = null;
  private down = false;
  private inCall = false;
  private nextId = 1;
  private readonly work = new Map<number, Work>();
  private timer: NodeJS.Timeout | null = null;
  private closing: Closing | null = null;
  private stats: CallStats | null = null;
  private kills = 0;
  private readonly spin = new SpinPolicy(SPIN_US);

  private constructor(private readonly options: ResolvedThreadOptions) {
    this.inc = this.start();
    this.startStandby();
  }

  /**
   * Starts a worker, boots its kernel and waits until it serves (tens of ms), blocking the
   * event loop meanwhile (start() does not). Throws on bad options (as Kernel.boot) or if
   * the kernel cannot boot.
   */
  static spawn(options?: ThreadOptions): KernelThread {
    const thread = new KernelThread(resolveThreadOptions(options));
    const inc = thread.inc;
    const state = inc.launched ? inc.waitReady(thread.options.bootTimeoutMs) : 0;
    if (state === 1) return thread;
    return thread.bootFailed(inc);
  }

  /**
   * Starts a worker and resolves once its kernel serves, without blocking the event loop.
   * Rejects on bad options (as Kernel.boot) or if the kernel cannot boot.
   */
  static async start(options?: ThreadOptions): Promise<KernelThread> {
    const thread = new KernelThread(resolveThreadOptions(options));
    const inc = thread.inc;
    const { ctl } = inc.area;
    const until = Date.now() + thread.options.bootTimeoutMs;
    // The wait itself does not keep the process alive: the booting worker does, until ready.
    const keepAlive = setInterval(() => undefined, 2 ** 30);
    try {
      // A worker launched late (see Reaping in incarnation.ts) still fills READY: wait for it.
      while (Atomics.load(ctl, Slot.READY) === 0 && Date.now() < until && !inc.retired) {
        const wait = waitAsync(ctl, Slot.READY, 0, until - Date.now());
        if (wait.async) await wait.value;
      }
    } finally {
      clearInterval(keepAlive);
    }
    if (Atomics.load(ctl, Slot.READY) === 1 && !inc.retired) return thread;
    return thread.bootFailed(inc);
  }

  private bootFailed(inc: Incarnation): never {
    let reason = inc.launched ? `no answer within ${this.options.bootTimeoutMs} ms` : NOT_LAUNCHED;
    for (let m = inc.take(); m !== undefined; m = inc.take()) if (m.t === 'boot-error') reason = m.message;
    this.down = true;
    inc.retire();
    this.retireStandby();
    throw new Error(`the kernel thread failed to boot: ${reason}`);
  }

  /** The syscall, through the thread. Never throws; the contract is Kernel.sysLua's, plus the deadline. */
  sysLua(code: UserCode, codeSz: number, result: UserResult, resultSz: number): number {
    try {
      if (this.down) return -errno.ESHUTDOWN;
      if (this.inCall) return -errno.EBUSY;
      const rc = checkUserArgs(code, codeSz, result, resultSz, this.options.kernel.codeSizeLimit);
      if (rc !== 0) return rc;
      if (result === null && resultSz === 0) {
        this.enqueue(copyForMessage(code, codeSz), undefined, true, null, undefined);
        return 0;
      }
      const reply = this.request(Kind.SYSLUA, code, codeSz, resultSz, undefined);
      copyToUser(result, resultSz, reply.bytes);
      return reply.rc;
    } catch (e) {
      // A RangeError here is the host's JS stack running out, as in Kernel.sysLua; no calls.
      return e instanceof RangeError ? -ENOMEM : -ECANCELED;
    }
  }

  /** Runs `code` synchronously and returns the result as text, as Kernel.exec. Never throws. */
  exec(code: string | Uint8Array, options: { name?: string } = {}): ExecResult {
    try {
      if (this.down) return execResult(-errno.ESHUTDOWN, '');
      if (this.inCall) return execResult(-errno.EBUSY, '');
      const size = typeof code === 'string' ? Buffer.byteLength(code) : uint8View(code)?.length ?? 0;
      const rc = checkUserArgs(code, size, null, 0, this.options.kernel.codeSizeLimit);
      if (rc !== 0) return execResult(rc, '');
      const reply = this.request(Kind.EXEC, code, size, 0, options.name);
      return execResult(reply.rc, reply.text);
    } catch (e) {
      // As in sysLua; the host's stack may be too full even to describe the error.
      return e instanceof RangeError ? STACK_FAILURE : { rc: -ECANCELED, error: e instanceof Error ? e.message : 'host error' };
    }
  }

  /**
   * Kernel.eval through the thread: synchronous, under the deadline. Arguments and values
   * cross by structured clone, then the kernel's mapping (a function in `args` is -EINVAL
   * here already). Never throws.
   */
  eval(code: string | Uint8Array, args?: readonly unknown[], options: EvalOptions = {}): ValueResult {
    try {
      if (this.down) return valueResult(-errno.ESHUTDOWN, '');
      if (this.inCall) return valueResult(-errno.EBUSY, '');
      const size = typeof code === 'string' ? Buffer.byteLength(code) : uint8View(code)?.length ?? 0;
      const rc = checkUserArgs(code, size, null, 0, this.options.kernel.codeSizeLimit);
      if (rc !== 0) return valueResult(rc, '');
      const reply = this.request(Kind.EVAL, code, size, 0, options.name, { args: args as unknown[] | undefined, strings: options.strings ?? 'text' });
      return valueResult(reply.rc, reply.text, reply.values);
    } catch (e) {
      return valueResult(-errno.ECANCELED, e instanceof Error ? e.message : String(e));
    }
  }

  /** Kernel.call through the thread, as eval. Never throws. */
  call(name: string, args?: readonly unknown[], options: ValueOptions = {}): ValueResult {
    try {
      if (this.down) return valueResult(-errno.ESHUTDOWN, '');
      if (this.inCall) return valueResult(-errno.EBUSY, '');
      if (typeof name !== 'string') return valueResult(-errno.EINVAL, 'name must be a string');
      const reply = this.request(Kind.CALL, '', 0, 0, name, { args: args as unknown[] | undefined, strings: options.strings ?? 'text' });
      return valueResult(reply.rc, reply.text, reply.values);
    } catch (e) {
      return valueResult(-errno.ECANCELED, e instanceof Error ? e.message : String(e));
    }
  }

  /**
   * Queues `code` on the thread's work queue; resolves (never rejects) with what exec would
   * return, in submission order. Cancelled through `options.signal`: -EINTR.
   */
  submit(code: string | Uint8Array, options: SubmitOptions = {}): Promise<ExecResult> {
    return this.submitWork(code, options.name, undefined, options.signal);
  }

  /** eval as queued work: submit's order, cancellation and deadline, eval's result. Never rejects. */
  submitEval(code: string | Uint8Array, args?: readonly unknown[], options: EvalOptions & { signal?: AbortSignal } = {}): Promise<ValueResult> {
    const values: ValueWork = { op: 'eval', args: args as unknown[] | undefined, strings: options.strings ?? 'text' };
    return this.submitWork(code, options.name, values, options.signal).then(fromClone);
  }

  /** call as queued work, as submitEval. Never rejects. */
  submitCall(name: string, args?: readonly unknown[], options: ValueOptions & { signal?: AbortSignal } = {}): Promise<ValueResult> {
    if (typeof name !== 'string') return Promise.resolve(valueResult(-errno.EINVAL, 'name must be a string'));
    const values: ValueWork = { op: 'call', args: args as unknown[] | undefined, strings: options.strings ?? 'text' };
    return this.submitWork('', name, values, options.signal).then(fromClone);
  }

  private submitWork(code: string | Uint8Array, name: string | undefined, values: ValueWork | undefined, signal: AbortSignal | undefined): Promise<ExecResult & ValueResult> {
    const done = (rc: number, text: string) => Promise.resolve(workResult(values !== undefined, rc, text));
    try {
      if (this.down) return done(-errno.ESHUTDOWN, '');
      const size = typeof code === 'string' ? Buffer.byteLength(code) : uint8View(code)?.length ?? 0;
      const rc = checkUserArgs(code, size, null, 0, this.options.kernel.codeSizeLimit);
      if (rc !== 0) return done(rc, '');
      if (signal?.aborted) return done(-errno.EINTR, 'cancelled before it ran');
      return new Promise((resolve) => this.enqueue(copyForMessage(code, size), name, false, resolve, signal, values));
    } catch (e) {
      return done(-errno.ECANCELED, e instanceof Error ? e.message : String(e));
    }
  }

  /**
   * Terminates the worker now, whatever it runs, and starts a fresh one (globals are lost):
   * the running asynchronous item gets -EINTR; queued items run on the replacement.
   */
  kill(): void {
    if (this.down) return;
    const running = Atomics.load(this.inc.area.ctl, Slot.RUNNING);
    this.restart(-errno.EINTR, running, 'killed by the host; the kernel thread was restarted');
  }

  /**
   * Ends the thread: queued work gets -ESHUTDOWN, the running item may finish (within its
   * deadline), then the kernel shuts down (its finalizers under the same deadline) and the
   * worker exits. Resolves with the leak report once the worker is gone. Idempotent.
   */
  close(): Promise<ThreadShutdownReport> {
    if (this.closing !== null) return this.closing.promise;
    let resolve!: (report: ThreadShutdownReport) => void;
    const promise = new Promise<ThreadShutdownReport>((r) => (resolve = r));
    const closing: Closing = { promise, resolve, done: false };
    this.closing = closing;
    this.down = true;
    const inc = this.inc;
    inc.ref();
    if (inc.retired || !inc.ready) {
      // Nothing ran on it yet (still booting) or it is already gone.
      inc.retire();
      this.finishClose(null);
      return promise;
    }
    inc.port.postMessage({ t: 'close' } satisfies ToWorker);
    inc.ring();
    // Everything but the running item is dropped; the worker skips it too (it reads its
    // messages after publishing RUNNING and before starting an item).
    const running = Atomics.load(inc.area.ctl, Slot.RUNNING);
    for (const id of [...this.work.keys()]) {
      if (id !== running) this.settle(id, -errno.ESHUTDOWN, 'the kernel thread was closed');
    }
    this.refresh();
    return promise;
  }

  /** What the last synchronous call cost, as Kernel.lastStats (null before the first, or after a kill). */
  get lastStats(): CallStats | null {
    return this.stats;
  }

  get isClosed(): boolean {
    return this.down;
  }

  info(): ThreadInfo {
    const running = Atomics.load(this.inc.area.ctl, Slot.RUNNING);
    return {
      ready: this.inc.ready && !this.inc.retired,
      running: running > 0 && this.work.has(running) ? 'work' : running === CLOSING && this.closing !== null ? 'shutdown' : null,
      queued: this.work.size,
      kills: this.kills,
      threadId: this.inc.worker?.threadId ?? -1,
      standby: this.standby !== null && this.standby.ready,
    };
  }

  // ---- the worker's life ----

  /** The serving incarnation after a restart: the standby if any (a new one starts booting), else a new one. */
  private start(): Incarnation {
    const standby = this.standby;
    this.standby = null;
    const inc = standby ?? this.newIncarnation();
    // Work the previous worker had not finished runs here, in the same order.
    for (const work of this.work.values()) inc.port.postMessage(work.message);
    if (this.work.size > 0) inc.ring();
    if (standby !== null) this.startStandby();
    return inc;
  }

  private newIncarnation(): Incarnation {
    const inc: Incarnation = new Incarnation(this.options, () => this.onExit(inc));
    inc.port.on('message', (m: FromWorker) => this.onMessage(inc, m));
    inc.port.unref();
    return inc;
  }

  private startStandby(): void {
    if (this.options.standby && this.standby === null && !this.down) this.standby = this.newIncarnation();
  }

  private onMessage(inc: Incarnation, m: FromWorker): void {
    if (inc !== this.inc || inc.retired) return;
    if (m.t === 'done') this.settle(m.id, m.rc, m.text, m.values);
    else if (m.t === 'closed') this.finishClose(m.leaks as LeakRecord[]);
    else this.failBoot(m.message);
  }

  /** Takes what the worker already posted, synchronously (before deciding anything about it). */
  private drain(inc: Incarnation): void {
    for (let m = inc.take(); m !== undefined && inc === this.inc && !inc.retired; m = inc.take()) this.onMessage(inc, m);
  }

  private onExit(inc: Incarnation): void {
    if (inc === this.standby && !inc.retired) {
      // The standby died before it was needed (it failed to boot, or its thread crashed).
      inc.retire();
      this.standby = null;
      return;
    }
    if (inc !== this.inc || inc.retired) return;
    this.drain(inc);
    if (inc !== this.inc || inc.retired) return;
    if (Atomics.load(inc.area.ctl, Slot.READY) !== 1) return this.failBoot('the worker exited while booting');
    const running = Atomics.load(inc.area.ctl, Slot.RUNNING);
    this.restart(-errno.EINTR, running, 'the kernel thread died; it was restarted');
  }

  /** A replacement cannot boot: the thread is down for good. */
  private failBoot(message: string): void {
    this.down = true;
    this.inc.retire();
    this.retireStandby();
    for (const id of [...this.work.keys()]) this.settle(id, -errno.ESHUTDOWN, `the kernel thread could not boot: ${message}`);
    if (this.closing !== null) this.finishClose(null);
  }

  /**
   * Terminates the worker; `victim` (an async item id, or 0 for a synchronous call the
   * caller answers itself) ends with `rc`; the rest of the queue moves to a fresh worker.
   * Results the worker posted before this point are delivered first.
   */
  private restart(rc: number, victim: number, message: string): void {
    const inc = this.inc;
    this.drain(inc);
    if (inc !== this.inc || inc.retired) return;
    inc.retire();
    this.kills++;
    this.stats = null;
    if (victim > 0) this.settle(victim, rc, message);
    if (this.closing !== null) return this.finishClose(null);
    this.inc = this.start();
    this.refresh();
  }

  private retireStandby(): void {
    this.standby?.retire();
    this.standby = null;
  }

  private finishClose(leaks: LeakRecord[] | null): void {
    const closing = this.closing!;
    if (closing.done) return;
    closing.done = true;
    for (const id of [...this.work.keys()]) this.settle(id, -errno.ESHUTDOWN, 'the kernel thread was closed');
    const inc = this.inc;
    inc.retire();
    this.retireStandby();
    this.refresh();
    void inc.exited.then(() => closing.resolve({ rc: 0, leaks: leaks ?? [], killed: leaks === null }));
  }

  // ---- asynchronous work ----

  private enqueue(
    code: Uint8Array,
    name: string | undefined,
    discard: boolean,
    resolve: Work['resolve'],
    signal: AbortSignal | undefined,
    values?: ValueWork,
  ): void {
    const id = this.nextId++;
    const message: Work['message'] = values === undefined ? { t: 'work', id, code, name, discard } : { t: 'work', id, code, name, discard, values };
    const work: Work = { id, message, resolve, cleanup: null };
    if (signal !== undefined) {
      const onAbort = (): void => this.cancel(id);
      signal.addEventListener('abort', onAbort, { once: true });
      work.cleanup = () => signal.removeEventListener('abort', onAbort);
    }
    this.work.set(id, work);
    this.inc.port.postMessage(work.message);
    this.inc.ring();
    this.refresh();
  }

  private cancel(id: number): void {
    const inc = this.inc;
    if (!this.work.has(id) || inc.retired) return;
    this.drain(inc);
    if (!this.work.has(id) || inc !== this.inc) return;
    // Post first, then look: the worker publishes RUNNING first, then reads its messages.
    inc.port.postMessage({ t: 'cancel', id } satisfies ToWorker);
    inc.ring();
    const { ctl } = inc.area;
    if (Atomics.load(ctl, Slot.RUNNING) === id) {
      return this.restart(-errno.EINTR, id, 'cancelled while running; the kernel thread was restarted');
    }
    if (Atomics.load(ctl, Slot.DONE) >= id) return; // finished: its result is on its way
    this.settle(id, -errno.EINTR, 'cancelled before it ran');
  }

  private settle(id: number, rc: number, text: string, values?: unknown[]): void {
    const work = this.work.get(id);
    if (work === undefined) return;
    this.work.delete(id);
    work.cleanup?.();
    work.resolve?.(workResult(work.message.values !== undefined, rc, text, values));
    if (this.work.size === 0) this.refresh();
  }

  /** Keeps the process alive while work is outstanding, and the deadline watch armed. */
  private refresh(): void {
    const busy = this.work.size > 0 || (this.closing !== null && !this.closing.done);
    if (busy && !this.inc.retired) this.inc.port.ref();
    else this.inc.port.unref();
    if (busy) this.arm();
    else if (this.timer !== null) {
      clearTimeout(this.timer);
      this.timer = null;
    }
  }

  private arm(): void {
    if (this.timer !== null || this.inc.retired) return;
    const { ctl, f64 } = this.inc.area;
    const running = Atomics.load(ctl, Slot.RUNNING);
    const delay = running !== 0 ? f64[F64.START]! + this.options.deadlineMs - epochNow() : this.options.deadlineMs;
    this.timer = setTimeout(() => this.watch(), Math.max(0, Math.ceil(delay)) + 1);
    this.timer.unref();
  }

  /** The deadline of asynchronous work (and of the shutdown), counted from the item's start. */
  private watch(): void {
    this.timer = null;
    const inc = this.inc;
    if (inc.retired) return;
    this.drain(inc);
    if (inc !== this.inc || inc.retired) return;
    const { ctl, f64 } = inc.area;
    const running = Atomics.load(ctl, Slot.RUNNING);
    if (running !== 0 && epochNow() - f64[F64.START]! >= this.options.deadlineMs) {
      this.restart(-errno.ETIME, running, `deadline of ${this.options.deadlineMs} ms exceeded; the kernel thread was restarted`);
    }
    this.refresh();
  }

  // ---- synchronous calls ----

  private request(kind: number, code: UserCode, codeSz: number, resultSz: number, name: string | undefined, payload?: Payload): Reply {
    this.inCall = true;
    try {
      let inc = this.inc;
      if (inc.ready && Atomics.load(inc.area.ctl, Slot.SYNC) !== SyncState.IDLE) {
        this.settleAbandoned(inc);
        inc = this.inc;
      }
      if (!inc.launched) return hostReply(-errno.EBUSY, NOT_LAUNCHED);
      if (!inc.ready) {
        const state = inc.waitReady(this.options.bootTimeoutMs);
        if (state === -1) {
          this.drain(inc);
          if (!this.down) this.failBoot('boot error');
          return hostReply(-errno.ESHUTDOWN, 'the kernel thread could not boot');
        }
        if (state === 0) return hostReply(-errno.EBUSY, `the kernel thread did not boot within ${this.options.bootTimeoutMs} ms`);
      }
      return this.roundTrip(inc, kind, code, codeSz, resultSz, name, payload);
    } finally {
      this.inCall = false;
    }
  }

  /**
   * A call cut short by the host's JS stack after it posted its request (see kernel.ts's
   * header) left that request behind: the worker may still run it, and writing the next
   * request's slots now would mix the two. Withdraw it if it has not started, wait for it
   * within the deadline if it has (its reply is dropped: replies are taken by sequence
   * number), or replace the worker.
   */
  private settleAbandoned(inc: Incarnation): void {
    const { ctl } = inc.area;
    if (Atomics.compareExchange(ctl, Slot.SYNC, SyncState.PENDING, SyncState.IDLE) === SyncState.PENDING) return;
    const deadline = performance.now() + this.options.deadlineMs;
    let state = Atomics.load(ctl, Slot.SYNC);
    while (state === SyncState.RUNNING) {
      const remaining = deadline - performance.now();
      if (remaining <= 0) break;
      Atomics.wait(ctl, Slot.SYNC, state, remaining);
      state = Atomics.load(ctl, Slot.SYNC);
    }
    if (state === SyncState.RUNNING) this.restart(-errno.ETIME, 0, '');
    else Atomics.store(ctl, Slot.SYNC, SyncState.IDLE);
  }

  private roundTrip(inc: Incarnation, kind: number, code: UserCode, codeSz: number, resultSz: number, name: string | undefined, payload: Payload | undefined): Reply {
    const { ctl, f64 } = inc.area;
    const deadline = performance.now() + this.options.deadlineMs;
    const seq = ++inc.seq;
    let message: SyncRequestMessage | null = null;
    if (codeSz <= inc.area.code.length) writeCode(inc.area.code, code, codeSz);
    else message = { seq, code: copyForMessage(code, codeSz) };
    if (name !== undefined) (message ??= { seq }).name = name;
    if (payload !== undefined) Object.assign(message ??= { seq }, payload);
    if (message !== null) {
      try {
        inc.syncPort.postMessage(message);
      } catch (e) {
        // Only the arguments can fail to clone (a function, a symbol): nothing was sent.
        return hostReply(-errno.EINVAL, `args: cannot cross to the kernel thread (${e instanceof Error ? e.message : String(e)})`);
      }
    }
    ctl[Slot.KIND] = kind;
    ctl[Slot.SEQ] = seq;
    ctl[Slot.CODE_LEN] = codeSz;
    ctl[Slot.RESULT_SZ] = resultSz;
    ctl[Slot.REQ_FLAGS] = message === null ? 0 : REQ_MESSAGE;
    Atomics.store(ctl, Slot.SYNC, SyncState.PENDING);
    inc.ring();

    const spin = this.spin.budget();
    let state = pollUntil(ctl, Slot.SYNC, SyncState.DONE, spin);
    this.spin.record(state === SyncState.DONE, spin);
    while (state !== SyncState.DONE) {
      const remaining = deadline - performance.now();
      if (remaining <= 0) break;
      Atomics.wait(ctl, Slot.SYNC, state, remaining);
      state = Atomics.load(ctl, Slot.SYNC);
    }
    if (state !== SyncState.DONE) {
      if (Atomics.compareExchange(ctl, Slot.SYNC, SyncState.PENDING, SyncState.IDLE) === SyncState.PENDING) {
        // Withdrawn before the worker took it: nothing ran, nothing to kill.
        return hostReply(-errno.ETIME, `deadline of ${this.options.deadlineMs} ms exceeded before the call could start (the thread was busy with asynchronous work); it did not run`);
      }
      if (Atomics.load(ctl, Slot.SYNC) !== SyncState.DONE) {
        this.restart(-errno.ETIME, 0, '');
        return hostReply(-errno.ETIME, `deadline of ${this.options.deadlineMs} ms exceeded; the kernel thread was restarted`);
      }
    }

    const rc = ctl[Slot.RC]!;
    const copied = ctl[Slot.COPIED]!;
    let reply: Reply;
    if ((ctl[Slot.RES_FLAGS]! & RES_MESSAGE) !== 0) {
      const msg = takeReply(inc, seq);
      reply = { rc, bytes: msg?.bytes ?? NO_BYTES, text: msg?.text ?? '', values: msg?.values };
    } else if (kind === Kind.SYSLUA) {
      reply = { rc, bytes: inc.area.result.subarray(0, copied), text: '' };
    } else {
      const { result } = inc.area;
      reply = { rc, bytes: NO_BYTES, text: Buffer.from(result.buffer, result.byteOffset, copied).toString('utf8') };
    }
    this.stats = readStats(f64);
    Atomics.store(ctl, Slot.SYNC, SyncState.IDLE);
    return reply;
  }
}

/** The sync channel's reply to request `seq`, posted before the worker set DONE. */
function takeReply(inc: Incarnation, seq: number): SyncReplyMessage | undefined {
  for (;;) {
    const m = receiveMessageOnPort(inc.syncPort)?.message as SyncReplyMessage | undefined;
    if (m === undefined || m.seq === seq) return m;
  }
}

function readStats(f64: Float64Array): CallStats {
  const stats: Record<string, number> = {};
  for (let i = 0; i < STAT_KEYS.length; i++) {
    const value = f64[F64.STATS + i]!;
    if (!Number.isNaN(value)) stats[STAT_KEYS[i]!] = value;
  }
  return stats as unknown as CallStats;
}
