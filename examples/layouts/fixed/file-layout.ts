/* scripts/file-layout.lua in TypeScript: the NFSv4.1 file layout (RFC 8881 section 13.4). */
import type { MakeFixed } from './layout.js';
import { deviceIds, int } from './params.js';
import { stripe } from './stripe.js';

export const fileLayout: MakeFixed = (p, devices) => {
  const unit = int(p.stripeUnit, 'stripeUnit', 1);
  const first = int(p.firstStripeIndex ?? 0, 'firstStripeIndex', 0);
  const base = int(p.patternOffset ?? 0, 'patternOffset', 0);
  const dense = p.dense === true;
  const ids = deviceIds(p.stripeIndices, devices, 'stripeIndices');
  if (first >= ids.length) throw new RangeError(`firstStripeIndex must be below the stripe count ${ids.length}`);
  return {
    mirrors: 1,
    parity: false,
    resolve(offset, length) {
      if (offset < base) throw new RangeError(`offset ${offset} is below the pattern offset ${base}`);
      return [stripe([], ids, unit, first, base, dense, offset, length)];
    },
  };
};
