// Shared helpers of the binding tests: sysLua with a result buffer, the errno values, and
// test-only access to a kernel's image (a full collection, the function table's length).
import type { ExecutionContext } from 'ava';
import { errno, type Kernel } from '../../src/index.js';
import type { LuaImage } from '../../wasm/instance.js';

export const ECANCELED = -errno.ECANCELED;
export const ENOMEM = -errno.ENOMEM;

export interface Call {
  rc: number;
  /** The result bytes (the whole value when rc >= 0 and it fit). */
  bytes: Uint8Array;
  text: string;
}

/** sysLua with a result buffer of `size` bytes. */
export function sys(k: Kernel, code: string, size = 1 << 16): Call {
  const buf = new Uint8Array(size);
  const rc = k.sysLua(code, Buffer.byteLength(code), buf, size);
  const end = rc >= 0 ? Math.min(rc, size - 1) : Math.max(0, buf.indexOf(0));
  const bytes = buf.slice(0, end);
  return { rc, bytes, text: new TextDecoder().decode(bytes) };
}

/** The script is a Lua error (-ECANCELED) whose message matches `pattern`, and the kernel goes on. */
export function assertLuaError(t: ExecutionContext, k: Kernel, code: string, pattern: RegExp): void {
  const r = sys(k, code);
  t.is(r.rc, ECANCELED, `${code} -> ${r.rc} ${r.text}`);
  t.regex(r.text, pattern, code);
  assertServes(t, k, code);
}

export function assertServes(t: ExecutionContext, k: Kernel, note = ''): void {
  const r = k.exec('return 1 + 1');
  t.deepEqual(r, { rc: 1, value: '2' }, `kernel still serves after ${note}`);
}

/** What the tests reach inside a kernel (not public API). */
interface MachineView {
  image: LuaImage;
  L: number;
}

export function machineOf(k: Kernel): MachineView {
  k.exec('return 0'); // boots the machine if needed
  return (k as unknown as { machine: MachineView }).machine;
}

/** Host-function slots in the image's function table: length and live slots. */
export function tableSlots(k: Kernel): { length: number; live: number } {
  const { functions } = machineOf(k).image;
  return { length: functions.length, live: functions.liveSlots };
}

/**
 * Bytes the Lua state holds after kernel.gc(): two full collections, since objects that
 * only a weak table or a finalizer kept are freed by the second.
 */
export function liveBytes(k: Kernel): number {
  k.gc();
  return k.meminfo().usedBytes;
}
