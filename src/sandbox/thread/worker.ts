/*
 * The kernel thread's worker: boots a Kernel with the thread's options, then serves
 * forever from a blocking loop. It never returns to its event loop (the host may be blocked
 * in Atomics.wait on it, and a script may be stuck in C): it sleeps on the DOORBELL word,
 * takes messages with receiveMessageOnPort, and answers synchronous requests through the
 * shared area (protocol.ts). Between two asynchronous items it always serves a pending
 * synchronous request first.
 */
import { receiveMessageOnPort, workerData } from 'node:worker_threads';
import { adoptImage } from '../../../wasm/image.js';
import { Kernel } from '../kernel.js';
import { loadModules } from './options.js';
import { pollWhile, SpinPolicy } from './spin.js';
import {
  CLOSING, epochNow, F64, Kind, REQ_MESSAGE, RES_MESSAGE, Slot, STAT_KEYS, SyncState, viewArea,
  type FromWorker, type SyncReplyMessage, type SyncRequestMessage, type ToWorker, type WorkerInit,
} from './protocol.js';

/** How long the worker polls for the next request after serving one, before sleeping, at most (µs; see spin.ts). */
const SPIN_US = 50;
const spin = new SpinPolicy(SPIN_US);

type Work = Extract<ToWorker, { t: 'work' }>;

const init = workerData as WorkerInit;
const { port, syncPort } = init;
const area = viewArea(init.sab, init.codeBytes, init.resultBytes);
const { ctl, f64 } = area;
const encoder = new TextEncoder();
const EMPTY = new Uint8Array(0);

function post(message: FromWorker): void {
  port.postMessage(message);
}

let kernel: Kernel | undefined;
try {
  adoptImage(init.image);
  kernel = Kernel.boot({ ...init.boot, modules: await loadModules(init.modules) });
  warmUp(kernel);
} catch (e) {
  post({ t: 'boot-error', message: e instanceof Error ? e.message : String(e) });
  Atomics.store(ctl, Slot.READY, -1);
  Atomics.notify(ctl, Slot.READY);
  port.close();
  syncPort.close();
}
if (kernel !== undefined) serve(kernel);

function serve(kernel: Kernel): void {
  const queue: Work[] = [];
  const cancelled = new Set<number>();
  let closing = false;
  let scratch = EMPTY;

  const drain = (): void => {
    for (let m = receiveMessageOnPort(port); m !== undefined; m = receiveMessageOnPort(port)) {
      const msg = m.message as ToWorker;
      if (msg.t === 'work') queue.push(msg);
      else if (msg.t === 'cancel') cancelled.add(msg.id);
      else closing = true;
    }
  };

  /** The sync channel's message for request `seq` (older ones belong to withdrawn requests). */
  const requestMessage = (seq: number): SyncRequestMessage => {
    for (let m = receiveMessageOnPort(syncPort); m !== undefined; m = receiveMessageOnPort(syncPort)) {
      const msg = m.message as SyncRequestMessage;
      if (msg.seq === seq) return msg;
    }
    return { seq };
  };

  const serveSync = (): void => {
    const seq = ctl[Slot.SEQ]!;
    const codeSz = ctl[Slot.CODE_LEN]!;
    const resultSz = ctl[Slot.RESULT_SZ]!;
    let code = area.code.subarray(0, Math.min(codeSz, area.code.length));
    let name: string | undefined;
    let msg: SyncRequestMessage = { seq };
    if ((ctl[Slot.REQ_FLAGS]! & REQ_MESSAGE) !== 0) {
      msg = requestMessage(seq);
      if (msg.code !== undefined) code = msg.code;
      name = msg.name;
    }
    let rc: number;
    let length: number;
    let copied: number;
    let reply: SyncReplyMessage | null = null;
    const kind = ctl[Slot.KIND];
    if (kind === Kind.EVAL || kind === Kind.CALL) {
      const strings = msg.strings ?? 'text';
      const r = kind === Kind.EVAL
        ? kernel.eval(code, msg.args, name === undefined ? { strings } : { strings, name })
        : kernel.call(name ?? '', msg.args, { strings });
      rc = r.rc;
      // The values (or the message) always cross as a message: structured clone keeps them whole.
      reply = r.rc >= 0 ? { seq, values: r.values! } : { seq, text: r.error ?? '' };
      length = copied = 0;
    } else if (kind === Kind.SYSLUA) {
      // Small buffers straight into the shared area; a larger one into a private buffer
      // (its pages are committed only as far as the result is written), sent as a message.
      const inArea = resultSz <= area.result.length;
      if (!inArea && scratch.length < resultSz) scratch = new Uint8Array(resultSz);
      rc = kernel.sysLua(code, codeSz, inArea ? area.result : scratch, resultSz);
      length = kernel.lastResultLength;
      copied = resultSz > 0 ? Math.min(length, resultSz - 1) : 0;
      if (!inArea) {
        reply = { seq, bytes: scratch.slice(0, copied) };
        if (scratch.length > area.result.length * 16) scratch = EMPTY;
      }
    } else {
      const r = kernel.exec(code, name === undefined ? {} : { name });
      rc = r.rc;
      const text = (r.rc >= 0 ? r.value : r.error) ?? '';
      const { read, written } = encoder.encodeInto(text, area.result);
      length = written;
      copied = written;
      if (read < text.length) reply = { seq, text };
    }
    const stats = kernel.lastStats as Record<string, number | undefined> | null;
    for (let i = 0; i < STAT_KEYS.length; i++) f64[F64.STATS + i] = stats?.[STAT_KEYS[i]!] ?? NaN;
    if (reply !== null) syncPort.postMessage(reply);
    ctl[Slot.RC] = rc;
    ctl[Slot.RESULT_LEN] = length;
    ctl[Slot.COPIED] = copied;
    ctl[Slot.RES_FLAGS] = reply === null ? 0 : RES_MESSAGE;
    Atomics.store(ctl, Slot.SYNC, SyncState.DONE);
    Atomics.notify(ctl, Slot.SYNC);
  };

  const finish = (id: number): void => {
    Atomics.store(ctl, Slot.DONE, id);
    Atomics.store(ctl, Slot.RUNNING, 0);
  };

  const runWork = (work: Work): void => {
    f64[F64.START] = epochNow();
    Atomics.store(ctl, Slot.RUNNING, work.id);
    // The host posts a cancel and then reads RUNNING: either it sees this id (and kills),
    // or its cancel is already in the port and is seen here.
    drain();
    if (cancelled.delete(work.id) || closing) return finish(work.id);
    let rc: number;
    let text = '';
    let values: unknown[] | undefined;
    if (work.discard) {
      rc = kernel.sysLua(work.code, work.code.length, EMPTY, 0);
    } else if (work.values !== undefined) {
      const { op, args, strings } = work.values;
      const r = op === 'eval'
        ? kernel.eval(work.code, args, work.name === undefined ? { strings } : { strings, name: work.name })
        : kernel.call(work.name ?? '', args, { strings });
      rc = r.rc;
      text = r.error ?? '';
      values = r.values;
    } else {
      const r = kernel.exec(work.code, work.name === undefined ? {} : { name: work.name });
      rc = r.rc;
      text = (r.rc >= 0 ? r.value : r.error) ?? '';
    }
    post(values === undefined ? { t: 'done', id: work.id, rc, text } : { t: 'done', id: work.id, rc, text, values });
    finish(work.id);
  };

  const shutdown = (): void => {
    f64[F64.START] = epochNow();
    Atomics.store(ctl, Slot.RUNNING, CLOSING);
    const report = kernel.shutdown();
    post({ t: 'closed', leaks: report.leaks });
    Atomics.store(ctl, Slot.RUNNING, 0);
    port.close();
    syncPort.close();
  };

  Atomics.store(ctl, Slot.READY, 1);
  Atomics.notify(ctl, Slot.READY);
  for (;;) {
    const bell = Atomics.load(ctl, Slot.DOORBELL);
    if (Atomics.compareExchange(ctl, Slot.SYNC, SyncState.PENDING, SyncState.RUNNING) === SyncState.PENDING) {
      serveSync();
      // A caller making calls back to back is served without a futex wake-up (spin.ts).
      const budget = spin.budget();
      spin.record(pollWhile(ctl, Slot.DOORBELL, bell, budget) !== bell, budget);
      continue;
    }
    drain();
    if (closing) return shutdown();
    const work = queue.shift();
    if (work !== undefined) {
      if (cancelled.delete(work.id)) finish(work.id);
      else runWork(work);
      continue;
    }
    Atomics.wait(ctl, Slot.DOORBELL, bell);
  }
}

/**
 * One empty call before the thread reports ready: the one-time costs of a first call (the
 * interpreter loop's optimized compile, shared by the process; the first allocations of a
 * fresh isolate) belong to the boot, not to the first caller's deadline.
 */
function warmUp(kernel: Kernel): void {
  kernel.exec('return');
}
