/*
 * One worker of a kernel thread: the Worker, its shared area and its two channels.
 * A kill retires the whole incarnation; the thread starts a new one with the same options.
 *
 * node:worker_threads directly (not a pool library): a synchronous call blocks the caller
 * in Atomics.wait on this worker's own shared memory, and a hard kill is
 * `worker.terminate()` of exactly this worker, which stops it even inside Wasm code that
 * never returns to JS (a pathological pattern, a looping __gc).
 */
import { MessageChannel, Worker, receiveMessageOnPort, type MessagePort } from 'node:worker_threads';
import { loadImage } from '../../../wasm/image.js';
import { allocateArea, Slot, type FromWorker, type SharedArea, type WorkerInit } from './protocol.js';
import type { ResolvedThreadOptions } from './options.js';

const WORKER_URL = new URL('./worker.js', import.meta.url);

/** Kernel-thread workers started by this process and not yet exited (pool workers are piscina's). */
let live = 0;

/** Kernel-thread workers alive in this process (started, not yet exited). */
export function liveWorkers(): number {
  return live;
}

export class Incarnation {
  readonly worker: Worker;
  readonly area: SharedArea;
  /** Async channel, host side. */
  readonly port: MessagePort;
  /** Sync channel, host side. */
  readonly syncPort: MessagePort;
  /** Resolves when the worker has exited. */
  readonly exited: Promise<void>;
  retired = false;
  seq = 0;

  constructor(options: ResolvedThreadOptions) {
    this.area = allocateArea(options.codeBytes, options.resultBytes);
    const async = new MessageChannel();
    const sync = new MessageChannel();
    this.port = async.port1;
    this.syncPort = sync.port1;
    const init: WorkerInit = {
      image: loadImage(),
      boot: options.boot,
      modules: options.modules,
      sab: this.area.sab,
      codeBytes: options.codeBytes,
      resultBytes: options.resultBytes,
      port: async.port2,
      syncPort: sync.port2,
    };
    this.worker = new Worker(WORKER_URL, {
      workerData: init,
      transferList: [async.port2, sync.port2],
      stdout: false,
      stderr: false,
    });
    live++;
    this.exited = new Promise((resolve) => this.worker.once('exit', () => {
      live--;
      resolve();
    }));
    // An idle thread does not keep the process alive; outstanding async work refs the port.
    this.worker.unref();
    this.port.unref();
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

  /** Terminates the worker (asynchronous: `exited` tells when it is gone) and closes the channels. */
  retire(): void {
    if (this.retired) return;
    this.retired = true;
    void this.worker.terminate();
    this.port.close();
    this.syncPort.close();
  }
}
