/* scripts/crush.lua in TypeScript: straw2 placement over weighted devices. */
import { hash3, log2fix } from './hash.js';
import type { MakeFixed } from './layout.js';
import { placeObjects } from './objects.js';
import { int, weight } from './params.js';

export const crush: MakeFixed = (p, devices) => {
  const objectSize = int(p.objectSize, 'objectSize', 1);
  const file = int(p.fileId, 'fileId', 0);
  const replicas = int(p.replicas ?? 1, 'replicas', 1);
  const ids: number[] = [];
  const weights: number[] = [];
  devices.forEach((d, i) => {
    const w = weight(d, i);
    if (w > 0) {
      ids.push(d.id);
      weights.push(w);
    }
  });
  const n = ids.length;
  if (replicas > n) throw new RangeError(`${replicas} replicas need as many devices of positive weight, got ${n}`);

  const straw2 = (key: number, r: number): number => {
    let best = 0;
    let bestDraw = -Infinity;
    for (let i = 0; i < n; i++) {
      const u = hash3(key, ids[i]!, r) & 0xffff;
      // Floor division like Lua's //: the dividend is below 2^37, so the quotient rounds the same.
      const draw = Math.floor(((log2fix(u + 1) - 0x100000) * 0x10000) / weights[i]!);
      if (draw > bestDraw) {
        best = i;
        bestDraw = draw;
      }
    }
    return best;
  };

  const place = (object: number): number[] => {
    const key = hash3(file, object, 0);
    const taken = new Set<number>();
    const chosen: number[] = [];
    for (let r = 0; r < replicas; r++) {
      let pick = -1;
      for (let attempt = 0; attempt < 50 && pick < 0; attempt++) {
        const i = straw2(key, r + attempt * replicas);
        if (!taken.has(i)) pick = i;
      }
      if (pick < 0) for (pick = 0; taken.has(pick); pick++);
      taken.add(pick);
      chosen.push(ids[pick]!);
    }
    return chosen;
  };

  return { mirrors: replicas, parity: false, resolve: (offset, length) => placeObjects(offset, length, objectSize, replicas, place) };
};
