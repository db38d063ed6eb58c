/* scripts/raid5.lua in TypeScript: rotating parity, left-symmetric. */
import type { MakeFixed } from './layout.js';
import { int } from './params.js';

export const raid5: MakeFixed = (p, devices) => {
  const unit = int(p.stripeUnit, 'stripeUnit', 1);
  const n = devices.length;
  if (n < 3) throw new RangeError(`rotating parity needs at least 3 devices, got ${n}`);
  const ids = devices.map((d) => d.id);
  const width = unit * (n - 1);
  return {
    mirrors: 1,
    parity: true,
    resolve(offset, length) {
      const data: number[] = [];
      const parity: number[] = [];
      const stop = offset + length;
      for (let pos = offset; pos < stop;) {
        const row = Math.floor(pos / width);
        const inrow = pos % width;
        const within = inrow % unit;
        const len = Math.min(unit - within, stop - pos);
        data.push(ids[(n - 1 - (row % n) + 1 + Math.floor(inrow / unit)) % n]!, row * unit + within, len);
        pos += len;
      }
      for (let row = Math.floor(offset / width); row <= Math.floor((stop - 1) / width); row++) {
        parity.push(ids[n - 1 - (row % n)]!, row * unit, unit);
      }
      return [data, parity];
    },
  };
};
