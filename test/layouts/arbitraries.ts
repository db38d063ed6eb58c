/*
 * fast-check generators for the layout tests: a layout's parameters and device table that
 * the layout accepts, and requests on it that stay within 2^53 and a few dozen extents.
 */
import fc from 'fast-check';
import type { LayoutName } from '../../examples/layouts/scripts.js';
import type { Device, LayoutParams } from '../../examples/layouts/types.js';

export interface Case {
  layout: LayoutName;
  params: LayoutParams;
  devices: Device[];
  requests: { offset: number; length: number }[];
}

const BIG = 2 ** 50;

function deviceTable(min: number, max: number, weighted: boolean): fc.Arbitrary<Device[]> {
  return fc.integer({ min, max }).chain((n) => fc.tuple(
    fc.uniqueArray(fc.nat({ max: 2 ** 31 }), { minLength: n, maxLength: n }),
    // Mostly roomy devices; sometimes small ones, so "outside the device" happens on both sides.
    fc.array(fc.oneof({ weight: 4, arbitrary: fc.constant(BIG) }, { weight: 1, arbitrary: fc.nat({ max: 2 ** 32 }) }), { minLength: n, maxLength: n }),
    fc.array(fc.integer({ min: weighted ? 0 : 1, max: 4 }), { minLength: n, maxLength: n }),
  ).map(([ids, sizes, weights]) => ids.map((id, i) => ({ id, size: sizes[i]!, weight: weights[i]! }))));
}

const unit = fc.oneof(fc.integer({ min: 1, max: 1 << 20 }), fc.integer({ min: 9, max: 20 }).map((k) => 2 ** k));

/** Requests from `from` on, at most `extents` units of `grain` long. */
function requests(from: number, grain: number, extents: number): fc.Arbitrary<{ offset: number; length: number }[]> {
  const offset = fc.oneof(fc.nat({ max: 2 ** 32 }), fc.nat({ max: 2 ** 44 }), fc.constant(0)).map((o) => from + o);
  const length = fc.integer({ min: 1, max: Math.min(grain * extents, 2 ** 30) });
  return fc.array(fc.record({ offset, length }), { minLength: 1, maxLength: 4 });
}

const fileLayout = deviceTable(1, 16, false).chain((devices) => fc.record({
  devices: fc.constant(devices),
  stripeUnit: unit,
  stripeIndices: fc.shuffledSubarray(devices.map((_, i) => i), { minLength: 1 }),
  patternOffset: fc.oneof(fc.constant(0), fc.nat({ max: 2 ** 30 })),
  dense: fc.boolean(),
}).chain((p) => fc.record({
  layout: fc.constant<LayoutName>('file-layout'),
  params: fc.nat({ max: p.stripeIndices.length - 1 }).map((first) => ({
    stripeUnit: p.stripeUnit, stripeIndices: p.stripeIndices, firstStripeIndex: first, patternOffset: p.patternOffset, dense: p.dense,
  })),
  devices: fc.constant(p.devices),
  requests: requests(p.patternOffset, p.stripeUnit, 24),
})));

const flexFiles = deviceTable(1, 16, false).chain((devices) => fc.record({
  layout: fc.constant<LayoutName>('flex-files'),
  devices: fc.constant(devices),
  mirrors: fc.integer({ min: 1, max: Math.min(3, devices.length) }).chain((k) => fc.shuffledSubarray(devices.map((_, i) => i), { minLength: devices.length, maxLength: devices.length })
    // k disjoint mirrors: deal the shuffled positions round-robin.
    .map((order) => Array.from({ length: k }, (_, m) => order.filter((_, i) => i % k === m)))),
  stripeUnit: unit,
})).chain((c) => fc.record({
  layout: fc.constant(c.layout),
  params: fc.constant({ stripeUnit: c.stripeUnit, mirrors: c.mirrors }),
  devices: fc.constant(c.devices),
  requests: requests(0, c.stripeUnit, 16),
}));

const raid5 = fc.record({ devices: deviceTable(3, 16, false), stripeUnit: unit }).chain((c) => fc.record({
  layout: fc.constant<LayoutName>('raid5'),
  params: fc.constant({ stripeUnit: c.stripeUnit }),
  devices: fc.constant(c.devices),
  requests: requests(0, c.stripeUnit, 24),
}));

function objects(layout: 'crush' | 'ring'): fc.Arbitrary<Case> {
  return deviceTable(1, 16, true)
    .filter((devices) => devices.some((d) => d.weight! > 0))
    .chain((devices) => fc.record({
      objectSize: fc.oneof(fc.integer({ min: 1, max: 1 << 24 }), fc.constant(4 << 20)),
      fileId: fc.nat({ max: 2 ** 40 }),
      replicas: fc.integer({ min: 1, max: Math.min(3, devices.filter((d) => d.weight! > 0).length) }),
      vnodes: fc.integer({ min: 1, max: 16 }),
    }).chain((p) => fc.record({
      layout: fc.constant<LayoutName>(layout),
      params: fc.constant(layout === 'crush' ? { objectSize: p.objectSize, fileId: p.fileId, replicas: p.replicas } : p),
      devices: fc.constant(devices),
      requests: requests(0, p.objectSize, 8),
    })));
}

export const CASES: Record<LayoutName, fc.Arbitrary<Case>> = {
  'file-layout': fileLayout,
  'flex-files': flexFiles,
  raid5,
  crush: objects('crush'),
  ring: objects('ring'),
};
