/*
 * The simulation behind `npm run layouts`: a mixed workload over a 1 TiB file on 16
 * devices, resolved by every layout script through a LayoutEngine, with the device table
 * whole and with one device removed. It measures balance (bytes each device receives,
 * mirrors and parity included) and movement (the fraction of the file's bytes, per copy,
 * that land on another device once the device is gone).
 */
import type { LayoutSpec } from './engine.js';
import { LAYOUTS, layoutScript, type LayoutName } from './scripts.js';
import type { Device, Extent, LayoutParams, Resolution } from './types.js';
import { mixedWorkload } from './workload.js';

export const TiB = 2 ** 40;
const MiB = 2 ** 20;

export interface SimulationOptions {
  ios: number;
  devices?: number;
  fileSize?: number;
  /** Position (0-based) of the device taken out for the movement measurement. */
  removed?: number;
  seed?: number;
}

export interface LayoutOutcome {
  layout: LayoutName;
  label: string;
  /** Bytes per device id with the whole table, in table order. */
  bytes: number[];
  /** Bytes (over all copies) whose device changed when the device was removed, over all bytes. */
  moved: number;
}

export interface SimulationResult {
  ios: number;
  devices: number;
  fileSize: number;
  removed: number;
  layouts: LayoutOutcome[];
}

export const LABELS: Record<LayoutName, string> = {
  'file-layout': 'NFSv4.1 file layout (mod-N stripe)',
  'flex-files': 'flex-files, 2 mirrors of 8',
  raid5: 'rotating parity (RAID-5)',
  crush: 'straw2 (CRUSH-like)',
  ring: 'hash ring, 64 vnodes',
};

const range = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => from + i);

/**
 * Each layout's parameters for a table whose ids are 0..total-1, perhaps minus one: the
 * stripes span every device present; flex-files mirrors the devices of the lower half of the
 * ids on those of the upper half, so a removed device leaves the other mirror as it was.
 */
export function simulationParams(layout: LayoutName, devices: readonly Device[], total: number): LayoutParams {
  const positions = (keep: (id: number) => boolean) => devices.flatMap((d, i) => (keep(d.id) ? [i] : []));
  switch (layout) {
    case 'file-layout': return { stripeUnit: MiB, stripeIndices: range(0, devices.length), dense: true };
    case 'flex-files': return { stripeUnit: MiB, mirrors: [positions((id) => id < total >> 1), positions((id) => id >= total >> 1)] };
    case 'raid5': return { stripeUnit: MiB };
    case 'crush': return { objectSize: 4 * MiB, fileId: 7 };
    case 'ring': return { objectSize: 4 * MiB, fileId: 7, vnodes: 64 };
  }
}

export function simulationSpec(layout: LayoutName, devices: readonly Device[], total: number): LayoutSpec {
  return { script: layoutScript(layout), params: simulationParams(layout, devices, total), devices, name: layout };
}

/** Bytes of the same file range that two extent lists put on different devices. */
export function movedBytes(a: readonly Extent[], b: readonly Extent[]): number {
  let moved = 0;
  let i = 0, j = 0, usedA = 0, usedB = 0;
  while (i < a.length && j < b.length) {
    const ea = a[i]!, eb = b[j]!;
    const step = Math.min(ea.length - usedA, eb.length - usedB);
    if (ea.device !== eb.device) moved += step;
    usedA += step;
    usedB += step;
    if (usedA === ea.length) { i++; usedA = 0; }
    if (usedB === eb.length) { j++; usedB = 0; }
  }
  return moved;
}

export type Resolver = (offset: number, length: number) => Resolution;

/**
 * Runs the workload through `open(spec, layout)`, which returns the resolver of that
 * layout set up as `spec` (the scripted engine in `npm run layouts`, a fixed mapping in tests).
 */
export function simulate(options: SimulationOptions, open: (spec: LayoutSpec, layout: LayoutName) => Resolver): SimulationResult {
  const n = options.devices ?? 16;
  const fileSize = options.fileSize ?? TiB;
  const removed = options.removed ?? n >> 1;
  const all: Device[] = range(0, n).map((i) => ({ id: i, size: fileSize }));
  const fewer = all.filter((_, i) => i !== removed);
  const layouts = LAYOUTS.map((layout) => {
    const whole = open(simulationSpec(layout, all, n), layout);
    const less = open(simulationSpec(layout, fewer, n), layout);
    const bytes = new Map(all.map((d) => [d.id, 0]));
    let total = 0, moved = 0;
    for (const io of mixedWorkload(options.ios, fileSize, options.seed)) {
      const a = expect(whole(io.offset, io.length), layout);
      const b = expect(less(io.offset, io.length), layout);
      for (const e of [...a.mirrors!.flat(), ...(a.parity ?? [])]) bytes.set(e.device, bytes.get(e.device)! + e.length);
      a.mirrors!.forEach((list, m) => {
        total += io.length;
        moved += movedBytes(list, b.mirrors![m]!);
      });
    }
    return { layout, label: LABELS[layout], bytes: all.map((d) => bytes.get(d.id)!), moved: moved / total };
  });
  return { ios: options.ios, devices: n, fileSize, removed, layouts };
}

function expect(r: Resolution, layout: LayoutName): Resolution {
  if (r.rc < 0) throw new Error(`${layout}: ${r.error}`);
  return r;
}
