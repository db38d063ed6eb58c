/*
 * Values written as Lua source: what a caller without the value bridge has to do (and what
 * the bench measures against). Only plain data: nil, booleans, safe integers, strings,
 * arrays and plain objects.
 */

export function luaLiteral(v: unknown): string {
  if (v === null || v === undefined) return 'nil';
  if (typeof v === 'boolean') return String(v);
  if (typeof v === 'number') {
    if (!Number.isSafeInteger(v)) throw new RangeError(`not a safe integer: ${v}`);
    return String(v);
  }
  if (typeof v === 'string') return JSON.stringify(v).replace(/\\u([0-9a-f]{4})/gi, '\\u{$1}');
  if (Array.isArray(v)) return `{${v.map(luaLiteral).join(',')}}`;
  if (typeof v === 'object') {
    return `{${Object.entries(v as Record<string, unknown>).map(([k, x]) => `[${luaLiteral(k)}]=${luaLiteral(x)}`).join(',')}}`;
  }
  throw new TypeError(`cannot write a ${typeof v} as Lua`);
}
