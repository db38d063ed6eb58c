/*
 * What every layout's answers must satisfy beyond answer.ts's checks of a single answer
 * (which both sides of the differential test pass through): the same answer twice, a
 * request split in two maps every byte where the whole request maps it, and the copies of
 * one byte sit on distinct devices.
 */
import type { Extent, Resolution } from '../../examples/layouts/types.js';

type Resolver = (offset: number, length: number) => Resolution;

/** Extents with neighbours that continue each other on the same device merged: the byte mapping alone. */
function runs(extents: readonly Extent[]): Extent[] {
  const out: Extent[] = [];
  for (const e of extents) {
    const last = out.at(-1);
    if (last !== undefined && last.device === e.device && last.deviceOffset + last.length === e.deviceOffset) last.length += e.length;
    else out.push({ ...e });
  }
  return out;
}

/** The first broken invariant for the request, or null. */
export function brokenInvariant(resolve: Resolver, offset: number, length: number): string | null {
  const whole = resolve(offset, length);
  if (JSON.stringify(resolve(offset, length)) !== JSON.stringify(whole)) return 'not deterministic';
  if (whole.rc < 0) return null;
  if (length > 1) {
    const cut = 1 + ((offset * 7 + length * 3) % (length - 1));
    const a = resolve(offset, cut), b = resolve(offset + cut, length - cut);
    if (a.rc < 0 || b.rc < 0) return `a part fails where the whole does not: ${a.error ?? b.error}`;
    for (let m = 0; m < whole.mirrors!.length; m++) {
      const joined = runs([...a.mirrors![m]!, ...b.mirrors![m]!]);
      if (JSON.stringify(joined) !== JSON.stringify(runs(whole.mirrors![m]!))) return `mirror ${m + 1} maps the parts elsewhere than the whole (cut at ${cut})`;
    }
  }
  if (whole.mirrors!.length > 1 && sharedDevice(whole.mirrors!)) return 'two copies of a byte on one device';
  return null;
}

/** Whether some byte has two copies on the same device (lists cover the same bytes in order). */
function sharedDevice(mirrors: readonly Extent[][]): boolean {
  const at = mirrors.map(() => ({ i: 0, used: 0 }));
  for (;;) {
    if (at.some((p, m) => p.i >= mirrors[m]!.length)) return false;
    const extents = at.map((p, m) => mirrors[m]![p.i]!);
    if (new Set(extents.map((e) => e.device)).size < extents.length) return true;
    const step = Math.min(...extents.map((e, m) => e.length - at[m]!.used));
    at.forEach((p, m) => {
      p.used += step;
      if (p.used === extents[m]!.length) { p.i++; p.used = 0; }
    });
  }
}
