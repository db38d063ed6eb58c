/*
 * The integer hash of scripts/lib/hash.lua, bit for bit: lowbias32, with Math.imul for the
 * products modulo 2^32. Inputs are non-negative integers below 2^53.
 */

function mix32(h: number): number {
  h = (h ^ (h >>> 16)) >>> 0;
  h = Math.imul(h, 0x7feb352d) >>> 0;
  h = (h ^ (h >>> 15)) >>> 0;
  h = Math.imul(h, 0x846ca68b) >>> 0;
  return (h ^ (h >>> 16)) >>> 0;
}

const TWO32 = 2 ** 32;

function fold(v: number): number {
  return ((v % TWO32) ^ Math.floor(v / TWO32)) >>> 0;
}

export function hash3(a: number, b: number, c: number): number {
  return mix32((mix32((mix32((fold(a) ^ 0x9e3779b9) >>> 0) ^ fold(b)) >>> 0) ^ fold(c)) >>> 0);
}

/**
 * scripts/lib/log2.lua: log2(x) for 1 <= x <= 2^16 with 16 fractional bits, by repeated
 * squaring. Every intermediate stays below 2^34, exact in a double; divisions by powers of
 * two replace the shifts that would wrap at 32 bits here.
 */
export function log2fix(x: number): number {
  const n = 31 - Math.clz32(x);
  let y = Math.floor((x * 65536) / 2 ** n);
  let r = n << 16;
  for (let bit = 15; bit >= 0; bit--) {
    y = Math.floor((y * y) / 65536);
    if (y >= 0x20000) {
      y >>>= 1;
      r |= 1 << bit;
    }
  }
  return r;
}
