/*
 * The shared memory between a KernelThread and its worker, and the messages beside it.
 *
 * One SharedArrayBuffer per worker incarnation (a replacement never reuses its
 * predecessor's: `worker.terminate()` is asynchronous, and a dying worker must not be able
 * to write into the area its successor answers through):
 *
 *   bytes 0..63     Int32 control words (Slot)
 *   bytes 64..127   Float64 words (F64): the running item's start time, the last call's stats
 *   then            the code area   (copy_from_user lands here; `codeBytes` long)
 *   then            the result area (copy_to_user reads from here; `resultBytes` long)
 *
 * A synchronous call: the host writes the code and the request words, sets SYNC to
 * PENDING, rings DOORBELL and blocks in Atomics.wait on SYNC. The worker, which sleeps on
 * DOORBELL, claims the request (PENDING -> RUNNING by compareExchange), runs it, writes
 * the reply words and the result, and sets SYNC to DONE. At the deadline the host either
 * withdraws a request still PENDING (same compareExchange, so exactly one side wins) or
 * terminates a worker that is RUNNING it. Code or results that do not fit their area
 * cross as a message on the sync channel, tagged with the request's SEQ; the other side
 * reads it at once with receiveMessageOnPort, so the call stays synchronous.
 */
import type { MessagePort } from 'node:worker_threads';
import { copyFromUser, type UserCode } from '../user-copy.js';

/** Int32 control words. */
export const Slot = {
  /** 0 booting, 1 ready, -1 boot failed. */
  READY: 0,
  /** Bumped by the host for every request or message; the worker sleeps on it. */
  DOORBELL: 1,
  /** The synchronous request's state (SyncState). */
  SYNC: 2,
  /** Request: what to run (Kind). */
  KIND: 3,
  /** Request: its sequence number (tags the messages that belong to it). */
  SEQ: 4,
  /** Request: codeSz. */
  CODE_LEN: 5,
  /** Request: resultSz (sysLua). */
  RESULT_SZ: 6,
  /** Request: ReqFlag bits. */
  REQ_FLAGS: 7,
  /** Reply: sysLua's return value (or exec's rc). */
  RC: 8,
  /** Reply: byte length of the whole result or message (snprintf's n). */
  RESULT_LEN: 9,
  /** Reply: bytes placed in the result area. */
  COPIED: 10,
  /** Reply: ResFlag bits. */
  RES_FLAGS: 11,
  /** Id of the asynchronous item running now (> 0), CLOSING, or 0. */
  RUNNING: 12,
  /** Id of the last asynchronous item finished or skipped (ids only grow). */
  DONE: 13,
} as const;

/** Float64 words (index into the Float64Array at byte 64). */
export const F64 = {
  /** When RUNNING started, in ms since the epoch (performance.timeOrigin + performance.now()). */
  START: 0,
  /** The last synchronous call's CallStats, NaN where absent. */
  STATS: 1,
} as const;

/** CallStats fields carried back, in this order, from F64.STATS on. */
export const STAT_KEYS = ['instructions', 'allocations', 'allocatedBytes', 'peakBytes', 'wallTimeMs'] as const;

export const SyncState = { IDLE: 0, PENDING: 1, RUNNING: 2, DONE: 3 } as const;
/** EVAL and CALL always come with a message (their arguments; CALL's function name is its `name`). */
export const Kind = { SYSLUA: 1, EXEC: 2, EVAL: 3, CALL: 4 } as const;
/** The request's code (too big for the area) or chunk name comes as a message. */
export const REQ_MESSAGE = 1;
/** The reply's bytes (too big for the area) come as a message. */
export const RES_MESSAGE = 1;
/** RUNNING while the worker shuts its kernel down (finalizers run then). */
export const CLOSING = -2;

const CONTROL_BYTES = 64;
const F64_BYTES = 64;

export interface SharedArea {
  sab: SharedArrayBuffer;
  ctl: Int32Array;
  f64: Float64Array;
  code: Uint8Array;
  result: Uint8Array;
}

export function allocateArea(codeBytes: number, resultBytes: number): SharedArea {
  const sab = new SharedArrayBuffer(CONTROL_BYTES + F64_BYTES + codeBytes + resultBytes);
  return viewArea(sab, codeBytes, resultBytes);
}

export function viewArea(sab: SharedArrayBuffer, codeBytes: number, resultBytes: number): SharedArea {
  return {
    sab,
    ctl: new Int32Array(sab, 0, CONTROL_BYTES / 4),
    f64: new Float64Array(sab, CONTROL_BYTES, F64_BYTES / 8),
    code: new Uint8Array(sab, CONTROL_BYTES + F64_BYTES, codeBytes),
    result: new Uint8Array(sab, CONTROL_BYTES + F64_BYTES + codeBytes, resultBytes),
  };
}

/** A clock both threads agree on (each thread's timeOrigin is the wall clock at its start). */
export function epochNow(): number {
  return performance.timeOrigin + performance.now();
}

/** What the worker is given at start. */
export interface WorkerInit {
  image: WebAssembly.Module;
  /** Boot options without modules (plain data). */
  boot: object;
  /** Builtin module names or file: URLs. */
  modules: readonly string[] | undefined;
  sab: SharedArrayBuffer;
  codeBytes: number;
  resultBytes: number;
  /** Async channel, worker side: work, cancel and close in; done, closed and boot errors out. */
  port: MessagePort;
  /** Sync channel, worker side: oversized code in, oversized results out. */
  syncPort: MessagePort;
}

/** Work that is an eval (of `code`) or a call (of `name`): its values cross by structured clone. */
export interface ValueWork {
  op: 'eval' | 'call';
  args: unknown[] | undefined;
  strings: 'text' | 'bytes';
}

/** Host -> worker, async channel. */
export type ToWorker =
  | { t: 'work'; id: number; code: Uint8Array; name: string | undefined; discard: boolean; values?: ValueWork }
  | { t: 'cancel'; id: number }
  | { t: 'close' };

/** Worker -> host, async channel. */
export type FromWorker =
  | { t: 'done'; id: number; rc: number; text: string; values?: unknown[] }
  | { t: 'closed'; leaks: unknown[] }
  | { t: 'boot-error'; message: string };

/** Host -> worker, sync channel. */
export interface SyncRequestMessage {
  seq: number;
  code?: Uint8Array;
  name?: string;
  /** EVAL and CALL: the arguments (structured clone, then the kernel's mapping). */
  args?: unknown[] | undefined;
  strings?: 'text' | 'bytes';
}

/** Worker -> host, sync channel. */
export interface SyncReplyMessage {
  seq: number;
  bytes?: Uint8Array;
  text?: string;
  /** EVAL and CALL: the values, when rc >= 0. */
  values?: unknown[];
}

/**
 * copy_from_user for code that crosses as a message: exactly codeSz bytes in a buffer of
 * their own (a small string's Buffer is a view into Node's shared 8 KiB pool, and a
 * message would carry the whole pool).
 */
export function copyForMessage(code: UserCode, codeSz: number): Uint8Array {
  const bytes = copyFromUser(code, codeSz);
  return bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength ? bytes : new Uint8Array(bytes);
}
