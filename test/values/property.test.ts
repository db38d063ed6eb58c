// Property tests of the value bridge: any JSON value makes the round trip through
// eval('return ...', [v]) and comes back deep-equal after the normalizations the mapping
// table names; float keys read back exactly as Lua's own tostring prints them.
import test from 'ava';
import fc from 'fast-check';
import { Kernel } from '../../src/index.js';
import { luaFloatString } from '../../src/sandbox/values/lua-number.js';
import { luaFloatToString } from '../sandbox/helpers.js';

const k = Kernel.boot();

/** `s` with each lone surrogate replaced by U+FFFD (String.prototype.toWellFormed, Node 20; not in the ES2022 lib). */
const wellFormed = (s: string): string => (s as unknown as { toWellFormed(): string }).toWellFormed();

/** An object with a null prototype and exactly these own properties ("__proto__" included). */
function record(entries: [string, unknown][]): Record<string, unknown> {
  const o = Object.create(null) as Record<string, unknown>;
  for (const [key, value] of entries) Object.defineProperty(o, key, { value, enumerable: true, writable: true, configurable: true });
  return o;
}

/**
 * What the mapping makes of a JSON value going in and coming back: null is nil (so a table
 * does not keep it), a table is an Array only when its keys are exactly 1..n with n >= 1,
 * every other table (an empty array or object too) is a null-prototype object, and a lone
 * surrogate became U+FFFD on the way in.
 */
function normalize(v: unknown): unknown {
  if (typeof v === 'string') return wellFormed(v);
  if (typeof v !== 'object' || v === null) return v;
  const entries: [string, unknown][] = Array.isArray(v)
    ? v.flatMap((e, i): [string, unknown][] => (e === null ? [] : [[String(i + 1), normalize(e)]]))
    : Object.entries(v).flatMap(([key, e]): [string, unknown][] => (e === null ? [] : [[wellFormed(key), normalize(e)]]));
  const sequence = Array.isArray(v) && entries.length > 0 && entries.every(([key], i) => key === String(i + 1));
  return sequence ? entries.map(([, e]) => e) : record(entries);
}

test('any JSON value round-trips through eval("return ...", [v]) after the mapping\'s normalizations', (t) => {
  fc.assert(fc.property(fc.jsonValue({ maxDepth: 6 }), (v) => {
    const r = k.eval('return ...', [v]);
    t.deepEqual(r, { rc: 1, values: [normalize(v)] });
  }), { numRuns: 300 });
});

test('any JSON value passed to an exposed function arrives as eval would return it, and goes back the same way', (t) => {
  const seen: unknown[] = [];
  k.expose('echo', (x: unknown) => {
    seen.push(x);
    return x;
  });
  fc.assert(fc.property(fc.jsonValue({ maxDepth: 4 }), (v) => {
    seen.length = 0;
    const r = k.eval('return echo(...)', [v]);
    t.deepEqual(seen, [normalize(v)]);
    t.deepEqual(r, { rc: 1, values: [normalize(v)] });
  }), { numRuns: 150 });
  k.unexpose('echo');
});

test('a float key comes back as Lua\'s own tostring prints it', (t) => {
  // Integral floats within int64 are stored as integer keys: only the others stay floats.
  const floatKey = fc.double({ noNaN: true }).filter((x) => !Number.isInteger(x) || Math.abs(x) >= 2 ** 63);
  fc.assert(fc.property(floatKey, (x) => {
    const r = k.eval('local x = ... return tostring(x), { [x] = true }', [x]);
    t.is(r.rc, 2);
    const [text, table] = r.values as [string, Record<string, boolean>];
    t.deepEqual(Object.keys(table), [text]);
  }), { numRuns: 500 });
});

test('luaFloatString agrees with C\'s %.14g (exact halves rounded to even included)', (t) => {
  // Exact halves at the 15th significant digit: the one case toExponential rounds differently from C.
  for (const x of [0.5, 1.5, 2.5, 1e15 + 0.5, 123456789012345, 123456789012355, 2 ** 60, 1e21, 5e-324, -0.1]) {
    t.is(luaFloatString(x), luaFloatToString(x), String(x));
  }
  fc.assert(fc.property(fc.double({ noNaN: true }), (x) => {
    t.is(luaFloatString(x), luaFloatToString(x));
  }), { numRuns: 2000 });
});
