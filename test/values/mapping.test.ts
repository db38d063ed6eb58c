// DESIGN.md's mapping tables ("Values across the boundary"), row by row. What a value
// became on the Lua side is asked of Lua itself (math.type, #, string.byte, ...), so the
// expectations come from the table and Lua's semantics, not from the converter.
import test from 'ava';
import { Kernel, errno } from '../../src/index.js';

const k = Kernel.boot();
const bare = Kernel.boot({ modules: [] });

/** What Lua sees: `probe` is a Lua expression over the argument `v`. */
function lua(probe: string, v: unknown, kernel = k): unknown[] {
  const r = kernel.eval(`local v = ... return ${probe}`, [v]);
  if (r.rc < 0) throw new Error(`eval failed: ${r.rc} ${r.error}`);
  return r.values!;
}

function back(code: string, kernel = k): unknown[] {
  const r = kernel.eval(code);
  if (r.rc < 0) throw new Error(`eval failed: ${r.rc} ${r.error}`);
  return r.values!;
}

// ---------------------------------------------------------------- JS -> Lua

test('undefined and null become nil', (t) => {
  t.deepEqual(lua('v == nil, select("#", ...)', undefined), [true, 1]);
  t.deepEqual(lua('v == nil', null), [true]);
});

test('booleans stay booleans', (t) => {
  t.deepEqual(lua('type(v), v', true), ['boolean', true]);
  t.deepEqual(lua('type(v), v', false), ['boolean', false]);
});

test('safe integers become integers; -0, fractions, NaN, infinities and unsafe numbers become floats', (t) => {
  t.deepEqual(lua('math.type(v), v + 1', 41), ['integer', 42]);
  t.deepEqual(lua('math.type(v), v // 1', Number.MAX_SAFE_INTEGER), ['integer', Number.MAX_SAFE_INTEGER]);
  t.deepEqual(lua('math.type(v)', -Number.MAX_SAFE_INTEGER), ['integer']);
  t.deepEqual(lua('math.type(v), 1 / v', -0), ['float', -Infinity]);
  t.deepEqual(lua('math.type(v), v', 0.5), ['float', 0.5]);
  t.deepEqual(lua('math.type(v), v ~= v', NaN), ['float', true]);
  t.deepEqual(lua('math.type(v), v == math.huge', Infinity), ['float', true]);
  t.deepEqual(lua('math.type(v), v == -math.huge', -Infinity), ['float', true]);
  // 2^53 + 1 is not a JS number: the literal is 2^53, beyond the safe range, so a float.
  t.deepEqual(lua('math.type(v), string.format("%.0f", v)', 2 ** 53 + 1), ['float', '9007199254740992']);
});

test('a bigint within int64 becomes an integer; outside, -EINVAL', (t) => {
  t.deepEqual(lua('math.type(v), tostring(v)', 2n ** 53n + 1n), ['integer', '9007199254740993']);
  t.deepEqual(lua('v == math.mininteger', -(2n ** 63n)), [true]);
  t.deepEqual(lua('v == math.maxinteger', 2n ** 63n - 1n), [true]);
  const r = k.eval('return ...', [2n ** 63n]);
  t.is(r.rc, -errno.EINVAL);
  t.regex(r.error!, /^args\[0\]: bigint 9223372036854775808 is outside/);
});

test('strings cross as UTF-8, NUL bytes included; a lone surrogate becomes U+FFFD', (t) => {
  t.deepEqual(lua('#v, string.byte(v, 1, -1)', 'a\0b'), [3, 0x61, 0, 0x62]);
  t.deepEqual(lua('string.byte(v, 1, -1)', 'é'), [0xc3, 0xa9]);
  t.deepEqual(lua('string.byte(v, 1, -1)', '\ud800x'), [0xef, 0xbf, 0xbd, 0x78]);
  t.deepEqual(lua('string.byte(v, 1, -1)', '😀'), [0xf0, 0x9f, 0x98, 0x80]);
});

test('a Uint8Array (or Buffer) becomes a buffer when that module is loaded, else a string of its bytes', (t) => {
  t.deepEqual(lua('#v, v[1], v[3], tostring(v)', new Uint8Array([7, 8, 9])), [3, 7, 9, 'buffer: 3 bytes']);
  t.deepEqual(lua('#v, v[2]', Buffer.from([1, 2])), [2, 2]);
  t.deepEqual(lua('type(v), #v, string.byte(v, 1, -1)', new Uint8Array([0, 255]), bare), ['string', 2, 0, 255]);
  // A view crosses as exactly its bytes.
  t.deepEqual(lua('string.byte(v, 1, -1)', new Uint8Array([1, 2, 3, 4]).subarray(1, 3), bare), [2, 3]);
});

test('an array becomes t[1..n]; holes become nil', (t) => {
  t.deepEqual(lua('#v, v[1], v[3]', [10, 20, 30]), [3, 10, 30]);
  // eslint-disable-next-line no-sparse-arrays
  t.deepEqual(lua('v[1], v[2], v[3], rawlen(v) >= 1', [1, , 3]), [1, null, 3, true]);
  t.deepEqual(lua('next(v) == nil', []), [true]);
  t.deepEqual(lua('v[2][1]', [[], ['x']]), ['x']);
});

test('a plain object becomes a table with string keys; symbol and non-enumerable keys are skipped', (t) => {
  const o: Record<PropertyKey, unknown> = { a: 1, 'b c': 2, 3: 'three' };
  o[Symbol('s')] = 4;
  Object.defineProperty(o, 'hidden', { value: 5, enumerable: false });
  t.deepEqual(lua('v.a, v["b c"], v["3"], v[3], v.hidden', o), [1, 2, 'three', null, null]);
  let keys = 0;
  lua('(function() for _ in pairs(v) do end end)()', o);
  const r = k.eval('local v = ... local n = 0 for _ in pairs(v) do n = n + 1 end return n', [o]);
  keys = r.values![0] as number;
  t.is(keys, 3);
  t.deepEqual(lua('v.x', Object.assign(Object.create(null), { x: 'null prototype' })), ['null prototype']);
});

test('a Map becomes a table with converted keys', (t) => {
  const m = new Map<unknown, unknown>([[1, 'one'], ['two', 2], [true, 'yes'], [2.5, 'float']]);
  t.deepEqual(lua('v[1], v.two, v[true], v[2.5]', m), ['one', 2, 'yes', 'float']);
  t.deepEqual(lua('v[next(v)]', new Map([[[1, 2], 'table key']])), ['table key']);
});

test('functions, symbols, class instances, Dates, RegExps, Promises, ArrayBuffers, other typed arrays: -EINVAL naming the path', (t) => {
  class Point { x = 1; }
  const cases: [unknown, RegExp][] = [
    [() => 1, /function cannot cross/],
    [Symbol('s'), /symbol cannot cross/],
    [new Point(), /class instance cannot cross/],
    [new Date(0), /Date cannot cross/],
    [/x/, /RegExp cannot cross/],
    [Promise.resolve(1), /Promise cannot cross/],
    [new ArrayBuffer(4), /ArrayBuffer cannot cross/],
    [new Float64Array(2), /typed array other than Uint8Array cannot cross/],
    [new Set([1]), /Set cannot cross/],
  ];
  for (const [value, reason] of cases) {
    const r = k.eval('return 1', [1, { tags: ['ok', value] }]);
    t.is(r.rc, -errno.EINVAL, String(reason));
    t.true(r.error!.startsWith('args[1].tags[1]: '), r.error);
    t.regex(r.error!, reason);
  }
});

// ---------------------------------------------------------------- Lua -> JS

test('nil, booleans, integers, floats and strings', (t) => {
  t.deepEqual(back('return nil, true, false, 42, -7, 0.5, "text"'), [null, true, false, 42, -7, 0.5, 'text']);
  t.deepEqual(back('return'), []);
  t.true(Object.is(back('return -0.0')[0], -0));
  t.true(Number.isNaN(back('return 0/0')[0]));
  t.deepEqual(back('return math.huge, -math.huge'), [Infinity, -Infinity]);
});

test('an integer beyond the safe range comes back as a bigint, exactly', (t) => {
  t.deepEqual(back('return math.maxinteger, math.mininteger, (1 << 53) + 1, 1 << 53'), [2n ** 63n - 1n, -(2n ** 63n), 2n ** 53n + 1n, 2n ** 53n]);
  t.deepEqual(back('return (1 << 53) - 1, 2^53'), [Number.MAX_SAFE_INTEGER, 2 ** 53], 'a float stays a number');
});

test('strings are decoded as UTF-8 with U+FFFD for invalid bytes, or returned as bytes', (t) => {
  t.deepEqual(back('return "\\xff", "a\\0b", "\\xc3\\xa9"'), ['\ufffd', 'a\0b', 'é']);
  const r = k.eval('return "\\xffa\\0", {s = "x"}', [], { strings: 'bytes' });
  t.deepEqual(r.values, [new Uint8Array([0xff, 0x61, 0]), Object.assign(Object.create(null), { s: new Uint8Array([0x78]) })]);
  t.is(Object.getPrototypeOf(r.values![0]), Uint8Array.prototype, 'a plain Uint8Array, not a view of kernel memory');
});

test('a buffer comes back as a copy of its bytes', (t) => {
  const r = k.eval('b = buffer.new(3) b[1] = 5 return b');
  t.deepEqual(r.values, [new Uint8Array([5, 0, 0])]);
  (r.values![0] as Uint8Array)[1] = 99;
  t.deepEqual(back('return b[2]'), [0], 'changing the copy does not change the buffer');
});

test('a table whose keys are exactly 1..n is an Array, whatever order they were added in', (t) => {
  t.deepEqual(back('return {1, 2, 3}'), [[1, 2, 3]]);
  t.deepEqual(back('local t = {} t[3] = "c" t[1] = "a" t[2] = "b" return t'), [['a', 'b', 'c']]);
  t.deepEqual(back('return {{}, {{1}}}'), [[Object.create(null), [[1]]]]);
});

test('any other table is a null-prototype object: empty tables, holes, string, integer and float keys', (t) => {
  const [empty, holey, mixed, floats] = back('return {}, {1, nil, 3}, {1, x = 2}, {[1.5] = "a", [1e300] = "b", [-0.0] = "z", [2^63] = "c"}') as Record<string, unknown>[];
  t.is(Object.getPrototypeOf(empty), null);
  t.deepEqual(Object.keys(empty!), []);
  t.deepEqual({ ...holey }, { 1: 1, 3: 3 });
  t.deepEqual({ ...mixed }, { 1: 1, x: 2 });
  // Lua's tostring of each key: -0.0 is stored as the integer 0; 2^63 stays a float.
  t.deepEqual({ ...floats }, { '1.5': 'a', '1e+300': 'b', 0: 'z', '9.2233720368548e+18': 'c' });
});

test('boolean and table keys, functions, coroutines and other userdata cannot cross: -EINVAL naming the path', (t) => {
  const cases: [string, string][] = [
    ['return {[true] = 1}', 'values[0]: a boolean key cannot cross (only string and number keys can)'],
    ['return {x = {[{}] = 1}}', 'values[0].x: a table key cannot cross (only string and number keys can)'],
    ['return 1, {f = print}', 'values[1].f: function cannot cross'],
    ['return {1, 2, coroutine.create(print)}', 'values[0][3]: thread cannot cross'],
    ['return {["a b"] = {[2.5] = print}}', 'values[0]["a b"][2.5]: function cannot cross'],
    ['return {x = {[1] = "number", ["1"] = "string"}}', 'values[0].x: two keys read as "1"'],
    ['return {["\\xff"] = 1, ["\\xfe"] = 2}', 'values[0]: two keys read as "\ufffd"'],
  ];
  for (const [code, message] of cases) t.deepEqual(k.eval(code), { rc: -errno.EINVAL, error: message }, code);
});

test('a key "__proto__" or "constructor" is an ordinary own property and pollutes nothing', (t) => {
  const [o] = back('return {__proto__ = {polluted = true}, constructor = "c", toString = 1}') as Record<string, unknown>[];
  t.is(Object.getPrototypeOf(o), null);
  t.true(Object.hasOwn(o!, '__proto__'));
  t.deepEqual(o!['__proto__'], Object.assign(Object.create(null), { polluted: true }));
  t.is(o!['constructor'], 'c');
  t.is(({} as Record<string, unknown>)['polluted'], undefined);
  t.is((Object.prototype as Record<string, unknown>)['polluted'], undefined);
});

test('tables with metatables are read raw: no metamethod, no script code runs', (t) => {
  const r = k.eval(`
    calls = 0
    local mt = {
      __index = function() calls = calls + 1 return "meta" end,
      __pairs = function() calls = calls + 1 return next, {}, nil end,
      __len = function() calls = calls + 1 return 99 end,
      __tostring = function() calls = calls + 1 return "t" end,
    }
    return setmetatable({1, 2}, mt), setmetatable({x = 1}, mt)`);
  t.deepEqual(r.values, [[1, 2], Object.assign(Object.create(null), { x: 1 })]);
  t.deepEqual(back('return calls'), [0]);
});

test('reading a result runs no finalizer (__gc)', (t) => {
  const r = k.eval(`
    finalized = 0
    for i = 1, 100 do setmetatable({}, { __gc = function() finalized = finalized + 1 end }) end
    local t = {} for i = 1, 2000 do t[i] = { i, 1.5, "s" .. i } end
    return finalized, t`);
  t.is(r.rc, 2);
  const before = r.values![0] as number;
  t.is((r.values![1] as unknown[]).length, 2000);
  t.deepEqual(back('return finalized >= ' + before), [true]);
});
