/*
 * LayoutPool: LayoutEngine's contract on a persistent KernelPool, asynchronously: resolves
 * run in parallel on worker threads, each worker a kernel of its own that keeps the layouts (same defaults as the engine:
 * 8 MiB pool, an instruction budget, plus the pool's hard deadline).
 *
 * Invariants:
 * - a resolve takes its file's record once, when it starts, and uses that record's slot,
 *   shape and device sizes to the end: it answers with the old layout or the new, never a
 *   mix, even when the layout is replaced while it runs;
 * - setLayout sets the new version up on one worker (where a bad one is refused; the old
 *   record stays) and only then swaps the record; the other workers set a version up when
 *   a resolve first needs it there: the call that finds the slot missing carries the layout
 *   (prelude.lua's layout_pooled), so a worker that was replaced after a deadline catches up too;
 * - resolve and setLayout never reject: every failure is an errno with a message.
 */
import { KernelPool, errno, type PoolOptions } from '../../src/index.js';
import { checkAnswer } from './answer.js';
import { DEFAULT_BOOT } from './engine.js';
import { PRELUDE, badRequest, installArgs, installed, ownSpec, type Installed, type LayoutSpec } from './spec.js';
import type { Resolution } from './types.js';

// The prelude comes along too: a worker's state may not have it yet. One source, so the
// chunk cache compiles it once per worker.
const POOLED = `if layout_pooled == nil then\n${PRELUDE}\nend\nreturn layout_pooled(...)`;

export class LayoutPool {
  private readonly files = new Map<string, Installed>();
  private nextSlot = 0;

  private constructor(readonly pool: KernelPool) {}

  /** A pool of `threads` kernels with the engine's defaults, `options` merged over them. Throws only on bad options. */
  static create(options: PoolOptions = {}): LayoutPool {
    return new LayoutPool(KernelPool.create({
      modules: [],
      ...options,
      persistent: true,
      memory: { ...DEFAULT_BOOT.memory, ...options.memory },
      limits: { ...DEFAULT_BOOT.limits, ...options.limits },
    }));
  }

  /** As LayoutEngine.setLayout: 0 or an errno; on failure the previous layout stays in place. */
  async setLayout(file: string, spec: LayoutSpec): Promise<{ rc: number; error?: string }> {
    const own = ownSpec(file, spec);
    if ('error' in own) return own;
    const slot = `s${this.nextSlot++}`;
    const record = installed(await this.pool.eval(POOLED, [file, ...installArgs(slot, own)]), own, slot);
    if ('error' in record) return record;
    this.files.set(file, record);
    return { rc: 0 };
  }

  /** Forgets `file`'s layout: 0 or -ENOENT. Workers drop its slots when they next set up another version. */
  removeLayout(file: string): number {
    return this.files.delete(file) ? 0 : -errno.ENOENT;
  }

  /** As LayoutEngine.resolve, on whichever worker is free. Never rejects. */
  async resolve(file: string, offset: number, length: number): Promise<Resolution> {
    const layout = this.files.get(file);
    if (layout === undefined) return { rc: -errno.ENOENT, error: `no layout for file ${JSON.stringify(file)}` };
    const bad = badRequest(offset, length);
    if (bad !== null) return bad;
    let r = await this.pool.call(`layouts.${layout.slot}`, [offset, length]);
    if (r.rc === -errno.ENOENT) r = await this.pool.eval(POOLED, [file, ...installArgs(layout.slot, layout.spec), offset, length]);
    if (r.rc < 0) return { rc: r.rc, error: `layout ${layout.spec.name}: ${r.error}` };
    return checkAnswer(r.values!, layout, layout.sizes, length);
  }

  close(): Promise<void> {
    this.files.clear();
    return this.pool.close();
  }
}
