/*
 * The parameter checks of scripts/lib/params.lua, with the same messages: a fixed mapping
 * refuses what the script refuses.
 */
import type { Device } from '../types.js';

export function int(v: unknown, name: string, min: number): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min) {
    throw new RangeError(`${name} must be an integer >= ${min}, got ${v === undefined || v === null ? 'nil' : String(v)}`);
  }
  return v;
}

export function deviceIds(positions: unknown, devices: readonly Device[], name: string): number[] {
  if (!Array.isArray(positions) || positions.length === 0) throw new RangeError(`${name} must be a non-empty list`);
  return positions.map((p, i) => {
    const at = int(p, `${name}[${i + 1}]`, 0);
    if (at >= devices.length) throw new RangeError(`${name}[${i + 1}] = ${at} is past the device table`);
    return devices[at]!.id;
  });
}

export function weight(device: Device, i: number): number {
  return int(device.weight ?? 1, `devices[${i + 1}].weight`, 0);
}
