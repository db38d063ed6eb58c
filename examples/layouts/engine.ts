/*
 * LayoutEngine: each file's mapping to its storage devices is a Lua script (lunatik-ng's
 * own use case, scripted pNFS layouts). resolve(file, offset, length) calls the file's
 * layout through the value bridge: the device table and parameters reach the script as
 * values when it is installed, each request as two integers; nothing is formatted into source.
 *
 * Invariants:
 * - resolve and setLayout never throw; every failure is an errno with a message, and the
 *   engine keeps serving after any of them (a looping, memory-hungry or erroring layout
 *   gets -ETIME, -ENOMEM or -ECANCELED, a malformed answer -EINVAL; see answer.ts);
 * - a file's layout is one immutable record (script slot, shape, device sizes) swapped in
 *   one assignment after the new script is installed: a resolve sees the old layout or the
 *   new, never the new script with the old devices; a failed replacement keeps the old;
 * - the engine owns its kernel and its Lua state: a layout whose slot is gone (the kernel
 *   rebuilt its state after a panic, or reclaim() emptied it after -ENOMEM) is set up again
 *   from its spec on its next resolve.
 */
import { Kernel, errno, type BootOptions, type ShutdownReport } from '../../src/index.js';
import { checkAnswer } from './answer.js';
import { PRELUDE, badRequest, installArgs, installed as record, ownSpec, type Failure, type Installed, type LayoutSpec, type OwnSpec } from './spec.js';
import type { Resolution } from './types.js';

export type { LayoutSpec } from './spec.js';


/** What layouts run under unless told otherwise: a small pool and an instruction budget. */
export const DEFAULT_BOOT: BootOptions = {
  modules: [],
  memory: { limit: 8 * 1024 * 1024 },
  limits: { instructions: 2_000_000 },
};

export class LayoutEngine {
  private readonly files = new Map<string, Installed>();
  private nextSlot = 0;
  /** Whether the Lua state holds the prelude (set false when layout_install turns out missing). */
  private preludeLoaded = false;

  private constructor(readonly kernel: Kernel) {}

  /**
   * An engine on a kernel of its own (DEFAULT_BOOT, with `options` merged over it; never
   * isolate mode, where the layouts would vanish after every call). Throws only on bad options.
   */
  static boot(options: BootOptions = {}): LayoutEngine {
    return new LayoutEngine(Kernel.boot({
      ...DEFAULT_BOOT,
      ...options,
      isolate: false,
      memory: { ...DEFAULT_BOOT.memory, ...options.memory },
      limits: { ...DEFAULT_BOOT.limits, ...options.limits },
    }));
  }

  /**
   * Installs or replaces `file`'s layout: 0, or -EINVAL (bad device table or layout info),
   * -ENOEXEC (syntax), -ECANCELED (the script's set-up raised an error), -ETIME, -ENOMEM,
   * -ESHUTDOWN. On failure the previous layout, if any, stays in place.
   */
  setLayout(file: string, spec: LayoutSpec): { rc: number; error?: string } {
    const own = ownSpec(file, spec);
    if ('error' in own) return own;
    const installed = this.install(own);
    if ('error' in installed) return installed;
    const old = this.files.get(file);
    this.files.set(file, installed);
    if (old !== undefined) this.kernel.call('layout_remove', [old.slot]);
    return { rc: 0 };
  }

  /** Forgets `file`'s layout: 0 or -ENOENT. */
  removeLayout(file: string): number {
    const old = this.files.get(file);
    if (old === undefined) return -errno.ENOENT;
    this.files.delete(file);
    this.kernel.call('layout_remove', [old.slot]);
    return 0;
  }

  /** The extents of `length` bytes at `offset` of `file`, checked (answer.ts). Never throws. */
  resolve(file: string, offset: number, length: number): Resolution {
    const layout = this.files.get(file);
    if (layout === undefined) return { rc: -errno.ENOENT, error: `no layout for file ${JSON.stringify(file)}` };
    const bad = badRequest(offset, length);
    if (bad !== null) return bad;
    let installed = layout;
    let r = this.kernel.call(`layouts.${installed.slot}`, [offset, length]);
    if (r.rc === -errno.ENOENT) {
      // Its slot is gone: the state was rebuilt after a panic, or emptied by reclaim().
      const again = this.restore(file, installed);
      if ('error' in again) return again;
      installed = again;
      r = this.kernel.call(`layouts.${installed.slot}`, [offset, length]);
    }
    if (r.rc === -errno.ENOMEM) this.reclaim();
    if (r.rc < 0) return { rc: r.rc, error: `layout ${layout.spec.name}: ${r.error}` };
    return checkAnswer(r.values!, installed, installed.sizes, length);
  }

  /** The files that have a layout. */
  list(): string[] {
    return [...this.files.keys()];
  }

  shutdown(): ShutdownReport {
    this.files.clear();
    return this.kernel.shutdown();
  }

  private ensurePrelude(): { rc: number; error?: string } {
    if (this.preludeLoaded) return { rc: 0 };
    const r = this.kernel.exec(PRELUDE, { name: 'layout-engine' });
    if (r.rc < 0) return { rc: r.rc, error: `layout engine prelude: ${r.error}` };
    this.preludeLoaded = true;
    return { rc: 0 };
  }

  /** Sets `file`'s layout up again from its spec, in a new slot. */
  private restore(file: string, old: Installed): Installed | Failure {
    const installed = this.install(old.spec);
    if (!('error' in installed)) this.files.set(file, installed);
    return installed;
  }

  /**
   * Out of memory: a layout may hold what it allocated in earlier calls (state kept in an
   * upvalue), and the pool is shared. Every layout's state is dropped and collected; each is
   * set up afresh from its spec on its next resolve, so a leaking layout cannot starve the others
   * for good. Layouts that keep no state across calls, as layouts should, lose nothing.
   */
  private reclaim(): void {
    this.kernel.exec('for slot in pairs(layouts) do layouts[slot] = nil end', { name: 'layout-engine' });
    this.kernel.gc();
  }

  /** Runs the script's set-up in a new slot; the prelude first if the state does not hold it (any more). */
  private install(spec: OwnSpec): Installed | Failure {
    const ready = this.ensurePrelude();
    if (ready.rc < 0) return { rc: ready.rc, error: ready.error! };
    const slot = `s${this.nextSlot++}`;
    let r = this.kernel.call('layout_install', installArgs(slot, spec));
    if (r.rc === -errno.ENOENT) {
      // layout_install is gone: the kernel rebuilt its state after a panic.
      this.preludeLoaded = false;
      const again = this.ensurePrelude();
      if (again.rc < 0) return { rc: again.rc, error: again.error! };
      r = this.kernel.call('layout_install', installArgs(slot, spec));
    }
    return record(r, spec, slot);
  }
}
