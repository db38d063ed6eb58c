/* scripts/flex-files.lua in TypeScript: flexible file layout mirrors (RFC 8435). */
import type { MakeFixed } from './layout.js';
import { deviceIds, int } from './params.js';
import { stripe } from './stripe.js';

export const flexFiles: MakeFixed = (p, devices) => {
  const unit = int(p.stripeUnit, 'stripeUnit', 1);
  if (!Array.isArray(p.mirrors) || p.mirrors.length === 0) throw new RangeError('mirrors must be a non-empty list');
  const mirrors = p.mirrors.map((m, i) => deviceIds(m, devices, `mirrors[${i + 1}]`));
  return {
    mirrors: mirrors.length,
    parity: false,
    resolve: (offset, length) => mirrors.map((ids) => stripe([], ids, unit, 0, 0, true, offset, length)),
  };
};
