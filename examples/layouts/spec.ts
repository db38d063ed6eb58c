/*
 * What LayoutEngine and LayoutPool share about a layout before and after its set-up: the
 * checks of a spec, the engine's own copy of it, and the record a set-up yields. A record
 * is immutable and names a slot no other version uses: swapping one record for another is
 * the whole of a replacement.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { errno } from '../../src/index.js';
import type { ValueResult } from '../../src/sandbox/values/value-calls.js';
import type { Device, LayoutParams, LayoutShape } from './types.js';

/** The engine's side of a Lua state (prelude.lua). */
export const PRELUDE = readFileSync(fileURLToPath(new URL('../../../examples/layouts/prelude.lua', import.meta.url)), 'utf8');

export interface LayoutSpec {
  /** Lua source: a chunk returning `function(params, devices)` that returns `resolve(offset, length)` and optionally `{ mirrors, parity }`. */
  script: string;
  params?: LayoutParams;
  devices: readonly Device[];
  /** Chunk name in error messages (default: the file name). */
  name?: string;
}

/** A spec as the engine keeps it: its own copy, every field present. */
export type OwnSpec = Required<LayoutSpec>;

export interface Installed extends LayoutShape {
  readonly spec: OwnSpec;
  /** The slot in `layouts` (the prelude's table) holding this version's resolve function. */
  readonly slot: string;
  readonly sizes: ReadonlyMap<number, number>;
}

export interface Failure {
  rc: number;
  error: string;
}

function checkDevices(devices: unknown): string | null {
  if (!Array.isArray(devices) || devices.length === 0) return 'the device table must be a non-empty array';
  const ids = new Set<number>();
  for (const [i, d] of devices.entries()) {
    const { id, size } = (d ?? {}) as Partial<Device>;
    if (!Number.isSafeInteger(id) || id! < 0) return `devices[${i}].id must be a non-negative integer`;
    if (!Number.isSafeInteger(size) || size! < 0) return `devices[${i}].size must be a non-negative integer`;
    if (ids.has(id!)) return `devices[${i}].id ${id} appears twice`;
    ids.add(id!);
  }
  return null;
}

/** The engine's own copy of `spec` (a caller changing its objects later changes nothing), or -EINVAL. */
export function ownSpec(file: string, spec: LayoutSpec): OwnSpec | Failure {
  const bad = checkDevices(spec?.devices);
  if (bad !== null) return { rc: -errno.EINVAL, error: bad };
  if (typeof spec.script !== 'string') return { rc: -errno.EINVAL, error: 'the script must be a string of Lua source' };
  try {
    return { script: spec.script, params: structuredClone(spec.params ?? {}), devices: structuredClone(spec.devices), name: spec.name ?? file };
  } catch (e) {
    return { rc: -errno.EINVAL, error: `the parameters and devices must be plain data: ${(e as Error).message}` };
  }
}

/** The arguments of the prelude's layout_install for `spec` in `slot`. */
export function installArgs(slot: string, spec: OwnSpec): unknown[] {
  return [slot, spec.script, spec.name, spec.params, spec.devices];
}

/** The record of a set-up that answered `r` (layout_install's 'ok', mirrors, parity or 'syntax', message). */
export function installed(r: ValueResult, spec: OwnSpec, slot: string): Installed | Failure {
  if (r.rc < 0) return { rc: r.rc, error: `layout ${spec.name}: ${r.error}` };
  const [status, mirrors, parity] = r.values!;
  if (status === 'syntax') return { rc: -errno.ENOEXEC, error: String(mirrors) };
  return { spec, slot, mirrors: mirrors as number, parity: parity as boolean, sizes: new Map(spec.devices.map((d) => [d.id, d.size])) };
}

/** -EINVAL for a request that is not a byte range within 2^53, else null. */
export function badRequest(offset: number, length: number): Failure | null {
  if (Number.isSafeInteger(offset) && offset >= 0 && Number.isSafeInteger(length) && length >= 1 && Number.isSafeInteger(offset + length)) return null;
  return { rc: -errno.EINVAL, error: `bad request: offset ${offset}, length ${length}` };
}
