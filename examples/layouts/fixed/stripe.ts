/*
 * scripts/lib/stripe.lua: RFC 8881 section 13.4.4's stripe arithmetic, appending one
 * (device, deviceOffset, length) triple per stripe unit touched.
 */
export function stripe(out: number[], ids: readonly number[], unit: number, first: number, base: number, dense: boolean, offset: number, length: number): number[] {
  const count = ids.length;
  const width = unit * count;
  let pos = offset;
  const stop = offset + length;
  while (pos < stop) {
    const rel = pos - base;
    const within = rel % unit;
    const len = Math.min(unit - within, stop - pos);
    out.push(ids[(Math.floor(rel / unit) + first) % count]!, dense ? Math.floor(rel / width) * unit + within : pos, len);
    pos += len;
  }
  return out;
}
