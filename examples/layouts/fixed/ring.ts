/* scripts/ring.lua in TypeScript: a consistent-hashing ring with virtual nodes. */
import { hash3 } from './hash.js';
import type { MakeFixed } from './layout.js';
import { placeObjects } from './objects.js';
import { int, weight } from './params.js';

export const ring: MakeFixed = (p, devices) => {
  const objectSize = int(p.objectSize, 'objectSize', 1);
  const file = int(p.fileId, 'fileId', 0);
  const replicas = int(p.replicas ?? 1, 'replicas', 1);
  const vnodes = int(p.vnodes, 'vnodes', 1);
  const entries: [number, number][] = [];
  let owners = 0;
  devices.forEach((d, i) => {
    const w = weight(d, i);
    if (w > 0) owners++;
    for (let v = 0; v < vnodes * w; v++) entries.push([hash3(d.id, v, 0x5bd1e995), d.id]);
  });
  if (replicas > owners) throw new RangeError(`${replicas} replicas need as many devices of positive weight, got ${owners}`);
  entries.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  const points = entries.map((e) => e[0]);
  const owner = entries.map((e) => e[1]);
  const size = points.length;

  const place = (object: number): number[] => {
    const h = hash3(file, object, 1);
    let lo = 0;
    let hi = size;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (points[mid]! < h) lo = mid + 1;
      else hi = mid;
    }
    if (lo >= size) lo = 0;
    const chosen: number[] = [];
    for (; chosen.length < replicas; lo = (lo + 1) % size) {
      if (!chosen.includes(owner[lo]!)) chosen.push(owner[lo]!);
    }
    return chosen;
  };

  return { mirrors: replicas, parity: false, resolve: (offset, length) => placeObjects(offset, length, objectSize, replicas, place) };
};
