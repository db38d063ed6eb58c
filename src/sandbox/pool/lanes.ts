/*
 * The persistent kernel pool's workers: one KernelThread per lane, each a kernel that
 * keeps its globals from task to task.
 *
 * Routing: a task with a key always runs on the lane its key hashes to, so all of one
 * tenant's tasks see the globals its earlier tasks left (and the globals of any other key
 * that hashes there: a lane is shared, not owned). A task without a key runs on the lane
 * with the fewest tasks waiting. Each lane runs its tasks one at a time, in submission
 * order, under the pool's deadline counted from the task's start (KernelThread.submit);
 * a deadline or a cancelled running task replaces the lane's worker, and its globals with
 * it.
 *
 * KernelThreads rather than piscina: piscina hands a task to whichever worker is free and
 * offers no way to pick one.
 */
import { errno } from '../errno.js';
import type { ExecResult } from '../kernel.js';
import { KernelThread, type ThreadOptions } from '../thread/kernel-thread.js';
import type { StringMode } from '../values/from-lua.js';
import type { ValueResult } from '../values/value-calls.js';

export interface LaneTask {
  key?: string | number | undefined;
  signal?: AbortSignal | undefined;
  name?: string | undefined;
  strings?: StringMode | undefined;
}

export class Lanes {
  private readonly lanes: Promise<KernelThread | Error>[];
  private readonly started: (KernelThread | null)[];
  private next = 0;

  constructor(count: number, options: ThreadOptions) {
    this.started = new Array<KernelThread | null>(count).fill(null);
    // Booted in the background (KernelThread.start); a task waits for its lane.
    this.lanes = Array.from({ length: count }, (_, i) =>
      KernelThread.start({ ...options, standby: false }).then(
        (thread) => (this.started[i] = thread),
        (e: unknown) => (e instanceof Error ? e : new Error(String(e))),
      ),
    );
  }

  async exec(code: string | Uint8Array, task: LaneTask): Promise<ExecResult> {
    const lane = await this.lane(task);
    if (lane instanceof Error) return { rc: -errno.ESHUTDOWN, error: lane.message };
    return lane.submit(code, { signal: task.signal, name: task.name });
  }

  async eval(code: string | Uint8Array, args: readonly unknown[] | undefined, task: LaneTask): Promise<ValueResult> {
    const lane = await this.lane(task);
    if (lane instanceof Error) return { rc: -errno.ESHUTDOWN, error: lane.message };
    return lane.submitEval(code, args, { signal: task.signal, name: task.name, strings: task.strings });
  }

  async call(name: string, args: readonly unknown[] | undefined, task: LaneTask): Promise<ValueResult> {
    const lane = await this.lane(task);
    if (lane instanceof Error) return { rc: -errno.ESHUTDOWN, error: lane.message };
    return lane.submitCall(name, args, { signal: task.signal, strings: task.strings });
  }

  private lane(task: LaneTask): Promise<KernelThread | Error> {
    return this.lanes[this.pick(task.key)]!;
  }

  /** Lanes serving, tasks waiting or running, workers replaced. */
  info(): { threads: number; queued: number; kills: number } {
    let threads = 0;
    let queued = 0;
    let kills = 0;
    for (const thread of this.started) {
      if (thread === null) continue;
      const info = thread.info();
      if (info.ready) threads++;
      queued += info.queued;
      kills += info.kills;
    }
    return { threads, queued, kills };
  }

  async close(): Promise<void> {
    await Promise.all(this.lanes.map(async (lane) => {
      const thread = await lane;
      if (!(thread instanceof Error)) await thread.close();
    }));
  }

  private pick(key: string | number | undefined): number {
    const n = this.lanes.length;
    if (key !== undefined) return hash(String(key)) % n;
    // The least busy lane (a lane still booting counts as free), round robin among equals.
    let best = this.next;
    let least = Infinity;
    for (let j = 0; j < n; j++) {
      const i = (this.next + j) % n;
      const queued = this.started[i]?.info().queued ?? 0;
      if (queued < least) {
        least = queued;
        best = i;
      }
    }
    this.next = (best + 1) % n;
    return best;
  }
}

/** FNV-1a over UTF-16 units: a stable spread of keys over lanes, the same in every process. */
function hash(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return h >>> 0;
}
