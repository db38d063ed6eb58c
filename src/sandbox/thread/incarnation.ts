/*
 * One worker of a kernel thread: the Worker, its shared area and its two channels.
 * A kill retires the whole incarnation; the thread starts a new one with the same options.
 *
 * node:worker_threads directly (not a pool library): a synchronous call blocks the caller
 * in Atomics.wait on this worker's own shared memory, and a hard kill is
 * `worker.terminate()` of exactly this worker, which stops it even inside Wasm code that
 * never returns to JS (a pathological pattern, a looping __gc).
 *
 * Reaping: a terminated worker's OS thread stops at once, but Node joins it (and unmaps
 * its stack) only when the host's event loop processes its exit. A host that kills in a
 * synchronous loop would pile up dead workers (about 0.2 MiB of RSS each), so at most
 * MAX_UNREAPED killed workers may await their exit in the process: beyond that a new
 * incarnation is created without its worker and launched (oldest first) as soon as an
 * exit is processed; until then calls on it answer -EBUSY.
 */
import { MessageChannel, Worker, receiveMessageOnPort, type MessagePort } from 'node:worker_threads';
import { loadImage } from '../../../wasm/image.js';
import { allocateArea, Slot, type FromWorker, type SharedArea, type WorkerInit } from './protocol.js';
import type { ResolvedThreadOptions } from './options.js';

const WORKER_URL = new URL('./worker.js', import.meta.url);

/** Kernel-thread workers started by this process and not yet exited (pool workers are piscina's). */
let live = 0;
/** Killed workers whose exit the event loop has not processed yet. */
let unreaped = 0;
/** At most this many killed workers await their exit; further incarnations wait to launch. */
export const MAX_UNREAPED = 16;
const waiting: Incarnation[] = [];

function launchWaiting(): void {
  while (unreaped < MAX_UNREAPED && waiting.length > 0) waiting.shift()!.launch();
}

/** Kernel-thread workers alive in this process (started, not yet exited). */
export function liveWorkers(): number {
  return live;
}

export class Incarnation {
  /** null until launched (see Reaping above). */
  worker: Worker | null = null;
  readonly area: SharedArea;
  /** Async channel, host side. */
  readonly port: MessagePort;
  /** Sync channel, host side. */
  readonly syncPort: MessagePort;
  /** Resolves when the worker has exited (at once for one retired before it launched). */
  readonly exited: Promise<void>;
  retired = false;
  seq = 0;

  private readonly init: WorkerInit;
  private readonly onExit: () => void;
  private resolveExited!: () => void;
  private gone = false;
  private counted = false;

  /** `onExit` runs when the worker exits, whoever ended it. */
  constructor(options: ResolvedThreadOptions, onExit: () => void) {
    this.area = allocateArea(options.codeBytes, options.resultBytes);
    const async = new MessageChannel();
    const sync = new MessageChannel();
    this.port = async.port1;
    this.syncPort = sync.port1;
    this.onExit = onExit;
    this.init = {
      image: loadImage(),
      boot: options.boot,
      modules: options.modules,
      sab: this.area.sab,
      codeBytes: options.codeBytes,
      resultBytes: options.resultBytes,
      port: async.port2,
      syncPort: sync.port2,
    };
    this.exited = new Promise((resolve) => (this.resolveExited = resolve));
    // An idle thread does not keep the process alive; outstanding async work refs the port.
    this.port.unref();
    if (unreaped < MAX_UNREAPED) this.launch();
    else waiting.push(this);
  }

  get launched(): boolean {
    return this.worker !== null;
  }

  /** Starts the worker; messages already posted to the ports wait for it. */
  launch(): void {
    const { init } = this;
    const worker = new Worker(WORKER_URL, {
      workerData: init,
      transferList: [init.port, init.syncPort],
      stdout: false,
      stderr: false,
    });
    this.worker = worker;
    live++;
    worker.once('exit', () => {
      live--;
      this.gone = true;
      if (this.counted) {
        unreaped--;
        launchWaiting();
      }
      this.resolveExited();
      this.onExit();
    });
    worker.on('error', () => undefined); // reported through 'exit'
    worker.unref();
  }

  /** 1 ready, -1 boot failed, 0 still booting after `timeoutMs`. */
  waitReady(timeoutMs: number): number {
    const { ctl } = this.area;
    if (Atomics.load(ctl, Slot.READY) === 0) Atomics.wait(ctl, Slot.READY, 0, timeoutMs);
    return Atomics.load(ctl, Slot.READY);
  }

  get ready(): boolean {
    return Atomics.load(this.area.ctl, Slot.READY) === 1;
  }

  /** Wakes the worker: a request or a message is waiting. */
  ring(): void {
    Atomics.add(this.area.ctl, Slot.DOORBELL, 1);
    Atomics.notify(this.area.ctl, Slot.DOORBELL);
  }

  /** The next message the worker already posted on the async channel, taken now. */
  take(): FromWorker | undefined {
    return receiveMessageOnPort(this.port)?.message as FromWorker | undefined;
  }

  /** Keeps the process alive until the worker exits. */
  ref(): void {
    this.worker?.ref();
  }

  /** Terminates the worker (asynchronous: `exited` tells when it is gone) and closes the channels. */
  retire(): void {
    if (this.retired) return;
    this.retired = true;
    if (this.worker === null) {
      waiting.splice(waiting.indexOf(this), 1);
      this.resolveExited();
    } else if (!this.gone) {
      this.counted = true;
      unreaped++;
      void this.worker.terminate();
    }
    this.port.close();
    this.syncPort.close();
  }
}
