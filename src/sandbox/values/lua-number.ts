/*
 * Lua's tostring of a float (lua_Number2str: C's "%.14g", then ".0" when the text looks
 * like an integer), computed in JavaScript so that reading a table's float keys never
 * allocates in the Lua state (an allocation can run a pending __gc finalizer, which is
 * script code, in the middle of a raw read).
 *
 * toExponential(13) rounds the exact binary value to 14 significant digits, halves away
 * from zero; C rounds exact halves to even. They differ only when the value is exactly
 * halfway, which needs 15 significant digits ending in 5: that rare case is confirmed
 * with exact BigInt arithmetic.
 */

const view = new DataView(new ArrayBuffer(8));

/** True when |x| is exactly digits * 10^exponent. */
function exactlyEquals(x: number, digits: bigint, exponent: number): boolean {
  view.setFloat64(0, Math.abs(x));
  const bits = view.getBigUint64(0);
  const biased = Number((bits >> 52n) & 0x7ffn);
  const fraction = bits & ((1n << 52n) - 1n);
  const mantissa = biased === 0 ? fraction : fraction | (1n << 52n);
  const binary = biased === 0 ? -1074 : biased - 1075;
  // mantissa * 2^binary === digits * 10^exponent, both sides scaled to integers
  let left = mantissa;
  let right = digits;
  if (binary >= 0) left <<= BigInt(binary);
  else right <<= BigInt(-binary);
  if (exponent >= 0) right *= 10n ** BigInt(exponent);
  else left *= 10n ** BigInt(-exponent);
  return left === right;
}

/** The 14 significant digits (no point) and decimal exponent C's %.14g would print for finite, non-zero x. */
function digitsOf(x: number): [string, number] {
  const rounded = x.toExponential(13);
  const wide = x.toExponential(14);
  const mark = wide.indexOf('e');
  if (wide.charCodeAt(mark - 1) === 0x35 /* '5' */) {
    const digits15 = wide.slice(x < 0 ? 1 : 0, mark).replace('.', '');
    const exponent15 = Number(wide.slice(mark + 1));
    if (exactlyEquals(x, BigInt(digits15), exponent15 - 14)) {
      // An exact half: keep the truncation when its last digit is even, as C does.
      const last = digits15.charCodeAt(13) - 0x30;
      if ((last & 1) === 0) return [digits15.slice(0, 14), exponent15];
    }
  }
  const e = rounded.indexOf('e');
  return [rounded.slice(x < 0 ? 1 : 0, e).replace('.', ''), Number(rounded.slice(e + 1))];
}

/** tostring(x) in Lua 5.4 for a float x other than NaN (whose sign JavaScript does not keep). */
export function luaFloatString(x: number): string {
  if (x === Infinity) return 'inf';
  if (x === -Infinity) return '-inf';
  if (x === 0) return Object.is(x, -0) ? '-0.0' : '0.0';
  const [digits, exponent] = digitsOf(x);
  const sign = x < 0 ? '-' : '';
  let text: string;
  if (exponent < -4 || exponent >= 14) {
    const fraction = digits.slice(1).replace(/0+$/, '');
    const e = Math.abs(exponent).toString().padStart(2, '0');
    text = `${digits[0]}${fraction ? `.${fraction}` : ''}e${exponent < 0 ? '-' : '+'}${e}`;
  } else if (exponent >= 0) {
    const fraction = digits.slice(exponent + 1).replace(/0+$/, '');
    text = digits.slice(0, exponent + 1) + (fraction ? `.${fraction}` : '.0');
  } else {
    text = `0.${'0'.repeat(-exponent - 1)}${digits.replace(/0+$/, '')}`;
  }
  return sign + text;
}
