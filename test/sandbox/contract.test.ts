// The sysLua contract of DESIGN.md, row by row. Expected values come from the contract,
// from Lua 5.4's semantics (tostring, error values, integer wrap-around) and from C's
// snprintf and %.14g, never from what the code under test happened to print.
import test from 'ava';
import fc from 'fast-check';
import { Kernel, defaultKernelInstance, errno, errnoName, strerror, sysLua, type LunatikModule } from '../../src/index.js';
import {
  assertServes, call, decoder, luaBytecode, luaDoubleExpr, luaFloatToString, sentinelBuffer, untouched, utf8,
} from './helpers.js';

const EINVAL = -errno.EINVAL;
const ENOEXEC = -errno.ENOEXEC;
const ECANCELED = -errno.ECANCELED;
const ENOMEM = -errno.ENOMEM;
const EFAULT = -errno.EFAULT;
const E2BIG = -errno.E2BIG;
const EBUSY = -errno.EBUSY;
const ESHUTDOWN = -errno.ESHUTDOWN;

const k = Kernel.boot();

// ---------------------------------------------------------------- errno and strerror

test('errno values are Linux x86-64 values', (t) => {
  t.like(errno, {
    EINVAL: 22, ENOEXEC: 8, ECANCELED: 125, ENOMEM: 12, ETIME: 62, EINTR: 4, EFAULT: 14, E2BIG: 7, EBUSY: 16, ESHUTDOWN: 108,
  });
  t.true(Object.isFrozen(errno));
});

test('strerror gives glibc texts for returned (negative) and positive codes', (t) => {
  const glibc: [number, string][] = [
    [22, 'Invalid argument'], [8, 'Exec format error'], [125, 'Operation canceled'], [12, 'Cannot allocate memory'],
    [62, 'Timer expired'], [4, 'Interrupted system call'], [14, 'Bad address'], [7, 'Argument list too long'],
    [16, 'Device or resource busy'], [108, 'Cannot send after transport endpoint shutdown'],
  ];
  for (const [code, text] of glibc) {
    t.is(strerror(code), text);
    t.is(strerror(-code), text);
  }
  t.is(strerror(0), 'Success');
  t.is(strerror(-4242), 'Unknown error 4242');
  t.is(errnoName(-22), 'EINVAL');
  t.is(errnoName(108), 'ESHUTDOWN');
  t.is(errnoName(-4242), undefined);
});

// ---------------------------------------------------------------- success: snprintf semantics

test('success: rc is the byte length, the value then a NUL, nothing written after the NUL', (t) => {
  const buf = sentinelBuffer(32);
  const rc = k.sysLua('return "hello"', 14, buf, 32);
  t.is(rc, 5);
  t.deepEqual(decoder.decode(buf.subarray(0, 5)), 'hello');
  t.is(buf[5], 0);
  t.true(untouched(buf.subarray(6)), 'snprintf writes n + 1 bytes, no more');
});

test('success: truncation boundary n = resultSz - 1, resultSz, resultSz + 1', (t) => {
  const value = '0123456789'; // n = 10
  const code = `return "${value}"`;
  for (const resultSz of [9, 10, 11, 12]) {
    // A larger array than resultSz: nothing at or after resultSz may be written.
    const buf = sentinelBuffer(resultSz + 8);
    const rc = k.sysLua(code, code.length, buf, resultSz);
    t.is(rc, 10, `resultSz ${resultSz}`);
    const kept = Math.min(10, resultSz - 1);
    t.is(decoder.decode(buf.subarray(0, kept)), value.slice(0, kept), `resultSz ${resultSz}`);
    t.is(buf[kept], 0, `NUL after ${kept} bytes`);
    t.true(untouched(buf.subarray(kept + 1)), `resultSz ${resultSz}: nothing written after the NUL`);
    t.is(rc >= resultSz, resultSz <= 10, 'n >= resultSz means truncated');
  }
});

test('success: resultSz 0 writes nothing and still returns the whole length; resultSz 1 writes only the NUL', (t) => {
  const zero = sentinelBuffer(16);
  t.is(k.sysLua('return "abcdef"', 15, zero, 0), 6);
  t.true(untouched(zero));
  const one = sentinelBuffer(16);
  t.is(k.sysLua('return "abcdef"', 15, one, 1), 6);
  t.is(one[0], 0);
  t.true(untouched(one.subarray(1)));
  // The empty result into a zero-length array.
  t.is(k.sysLua('return ""', 9, new Uint8Array(0), 0), 0);
});

test('success: any byte string comes back exactly, snprintf-truncated at any resultSz (property)', (t) => {
  fc.assert(fc.property(fc.uint8Array({ maxLength: 80 }), fc.nat(90), (value, extra) => {
    const code = `return "${[...value].map((b) => `\\${b}`).join('')}"`;
    const resultSz = Math.min(extra, value.length + 3);
    const buf = sentinelBuffer(resultSz + 4);
    const rc = k.sysLua(code, code.length, buf, resultSz);
    if (rc !== value.length) return false;
    if (resultSz === 0) return untouched(buf);
    const kept = Math.min(value.length, resultSz - 1);
    return buf.subarray(0, kept).every((b, i) => b === value[i]) && buf[kept] === 0 && untouched(buf.subarray(kept + 1));
  }), { numRuns: 500 });
  t.pass();
});

test('success: results are binary-safe (embedded NULs count in n)', (t) => {
  const r = call(k, 'return "a\\0b\\255"');
  t.is(r.rc, 4);
  t.deepEqual([...r.buf.subarray(0, 5)], [0x61, 0, 0x62, 0xff, 0]);
});

test('success: results are right in isolate mode too, at every length (a closed state must not be read)', (t) => {
  const iso = Kernel.boot({ isolate: true });
  for (let n = 0; n <= 700; n += 7) {
    const r = call(iso, `return ("abcdefghijklmnopqrstuvwxyz"):rep(30):sub(1, ${n})`);
    t.is(r.rc, n);
    t.is(r.text, 'abcdefghijklmnopqrstuvwxyz'.repeat(30).slice(0, n));
  }
});

// ---------------------------------------------------------------- value conversions

test('conversion: strings are their bytes (UTF-8 counted in bytes)', (t) => {
  t.like(call(k, 'return "héllo"'), { rc: 6, text: 'héllo' });
  t.like(call(k, 'return "😀"'), { rc: 4, text: '😀' });
  t.like(call(k, 'return ("ab"):rep(3)'), { rc: 6, text: 'ababab' });
  t.like(call(k, 'return ""'), { rc: 0, text: '' });
});

test('conversion: integers are Lua tostring (64-bit, wrapping)', (t) => {
  const cases: [string, string][] = [
    ['0', '0'], ['-1', '-1'], ['42', '42'], ['-0', '0'], ['0x10', '16'], ['7 // 2', '3'], ['-7 // 2', '-4'], ['7 % -3', '-2'],
    ['math.maxinteger', '9223372036854775807'], ['math.mininteger', '-9223372036854775808'],
    ['math.maxinteger + 1', '-9223372036854775808'], ['math.mininteger - 1', '9223372036854775807'],
    ['0xffffffffffffffff', '-1'], ['1 << 62', '4611686018427387904'], ['"10" + 0', '10'], ['#"abc"', '3'],
  ];
  for (const [expr, want] of cases) t.like(call(k, `return ${expr}`), { rc: want.length, text: want }, expr);
});

test('conversion: any 64-bit integer is its decimal text (property)', (t) => {
  fc.assert(fc.property(fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }), (n) => {
    const bytes = new Uint8Array(new BigInt64Array([n]).buffer);
    const r = call(k, `return (string.unpack("<i8", "${[...bytes].map((b) => `\\${b}`).join('')}"))`);
    return r.rc === n.toString().length && r.text === n.toString();
  }), { numRuns: 500 });
  t.pass();
});

test('conversion: floats are Lua 5.4 tostring ("%.14g", ".0" when integral)', (t) => {
  // [Lua expression, the same value in JavaScript, what Lua 5.4 prints]
  const cases: [string, number, string][] = [
    ['1.5', 1.5, '1.5'], ['1e100', 1e100, '1e+100'], ['2^63', 2 ** 63, '9.2233720368548e+18'], ['-0.0', -0, '-0.0'],
    ['0.0', 0, '0.0'], ['3.0', 3, '3.0'], ['10 / 2', 5, '5.0'], ['2^2', 4, '4.0'], ['2^53', 2 ** 53, '9.007199254741e+15'],
    ['1e15', 1e15, '1e+15'], ['1e14', 1e14, '1e+14'], ['123456789012.0', 123456789012, '123456789012.0'],
    ['0.1', 0.1, '0.1'], ['100 / 3', 100 / 3, '33.333333333333'], ['-1.5e-7', -1.5e-7, '-1.5e-07'],
    ['1e-4', 1e-4, '0.0001'], ['1e-5', 1e-5, '1e-05'], ['math.pi', Math.PI, '3.1415926535898'],
    ['1/0', Infinity, 'inf'], ['-1/0', -Infinity, '-inf'], ['math.huge', Infinity, 'inf'], ['-math.huge', -Infinity, '-inf'],
    ['5e-324', 5e-324, '4.9406564584125e-324'], ['1.7976931348623157e308', Number.MAX_VALUE, '1.7976931348623e+308'],
    ['100000000000005.0', 100000000000005, '1e+14'], // an exact tie at 14 digits: rounds half to even
    ['100000000000015.0', 100000000000015, '1.0000000000002e+14'],
  ];
  for (const [expr, value, want] of cases) {
    t.is(luaFloatToString(value), want, `the oracle agrees with Lua on ${expr}`);
    t.like(call(k, `return ${expr}`), { rc: want.length, text: want }, expr);
  }
});

test('conversion: NaN prints as nan or -nan by its sign bit, like C printf', (t) => {
  const a = call(k, 'return 0/0').text;
  const b = call(k, 'return -(0/0)').text;
  t.deepEqual([a, b].sort(), ['-nan', 'nan']);
  t.is(call(k, 'local x = 0/0 return x ~= x').text, 'true');
});

test('conversion: any double is "%.14g" as Lua prints it (property, independent %g oracle)', (t) => {
  fc.assert(fc.property(fc.double({ noNaN: true }), (x) => {
    const want = luaFloatToString(x);
    const r = call(k, `return ${luaDoubleExpr(x)}`);
    return r.rc === want.length && r.text === want;
  }), { numRuns: 2000 });
  t.pass();
});

test('conversion: booleans, nil, nothing, and only the first value', (t) => {
  t.like(call(k, 'return true'), { rc: 4, text: 'true' });
  t.like(call(k, 'return false'), { rc: 5, text: 'false' });
  t.like(call(k, 'return 1 == 2'), { rc: 5, text: 'false' });
  for (const code of ['return nil', 'return', 'local x = 1', 'return nil, 5', 'do end', ';;']) {
    const r = call(k, code);
    t.is(r.rc, 0, code);
    t.is(r.buf[0], 0, `${code}: empty result is just the NUL`);
  }
  t.like(call(k, 'return 1, 2, 3'), { rc: 1, text: '1' });
  t.like(call(k, 'return "a", {}'), { rc: 1, text: 'a' });
});

test('conversion: a value with __tostring is that result', (t) => {
  t.like(call(k, 'return setmetatable({}, { __tostring = function() return "custom" end })'), { rc: 6, text: 'custom' });
  t.like(call(k, 'return setmetatable({ n = 7 }, { __tostring = function(self) return "n=" .. self.n end })'), { text: 'n=7' });
  // Lua's tostring accepts a number from __tostring (lua_isstring is true for numbers).
  t.like(call(k, 'return setmetatable({}, { __tostring = function() return 12 end })'), { rc: 2, text: '12' });
  // __name alone is no __tostring: still a table.
  t.is(call(k, 'return setmetatable({}, { __name = "My" })').rc, EINVAL);
});

test('conversion: a __tostring that fails or returns a non-string is a runtime error', (t) => {
  const failing = call(k, 'return setmetatable({}, { __tostring = function() error("boom") end })');
  t.is(failing.rc, ECANCELED);
  t.regex(failing.text, /boom/);
  const table = call(k, 'return setmetatable({}, { __tostring = function() return {} end })');
  t.is(table.rc, ECANCELED);
  t.regex(table.text, /__tostring/, "Lua's message: '__tostring' must return a string");
  const recursive = call(k, 'local mt = {} mt.__tostring = function(v) return tostring(v) end return setmetatable({}, mt)');
  t.is(recursive.rc, ECANCELED);
  t.true(recursive.text.length > 0);
  assertServes(t, k);
});

// ---------------------------------------------------------------- -EINVAL for values without a text

test('-EINVAL: tables, functions and threads, with a message naming the type', (t) => {
  const cases: [string, RegExp][] = [
    ['return {}', /table/], ['return { 1, 2 }', /table/], ['return _G', /table/], ['return string', /table/],
    ['return print', /function/], ['return function() end', /function/],
    ['return coroutine.create(function() end)', /thread/], ['return coroutine.running()', /thread/],
  ];
  for (const [code, type] of cases) {
    const r = call(k, code);
    t.is(r.rc, EINVAL, code);
    t.regex(r.text, type, code);
    assertServes(t, k, code);
  }
});

/** A module whose userdata has no result encoder: `opaque()`, and `named()` with a __tostring. */
const opaqueModule: LunatikModule = {
  name: 'test_opaque',
  init(ctx) {
    ctx.userdata('test.opaque', {});
    ctx.userdata('test.named', { metamethods: { __tostring: (lua, L) => { lua.pushString(L, 'named userdata'); return 1; } } });
    ctx.function('opaque', (lua, L) => { lua.newUserdata(L, 8, 'test.opaque'); return 1; });
    ctx.function('named', (lua, L) => { lua.newUserdata(L, 8, 'test.named'); return 1; });
  },
};

test('-EINVAL: a userdata without a result encoder or __tostring, with a message naming the type', (t) => {
  const uk = Kernel.boot({ modules: [opaqueModule] });
  const r = call(uk, 'return opaque()');
  t.is(r.rc, EINVAL);
  t.regex(r.text, /userdata/);
  assertServes(t, uk);
  t.like(call(uk, 'return named()'), { rc: 14, text: 'named userdata' }, '__tostring wins');
  t.is(call(uk, 'error(opaque())').rc, ECANCELED);
  t.regex(call(uk, 'error(opaque())').text, /userdata/);
});

// ---------------------------------------------------------------- -ENOEXEC

test('-ENOEXEC: syntax errors, with Lua\'s message', (t) => {
  for (const code of ['x =', 'return return', 'if then', 'return "unfinished', 'local 1 = 2', 'return 1 +', '@', 'goto nowhere']) {
    const r = call(k, code);
    t.is(r.rc, ENOEXEC, code);
    t.regex(r.text, /^sysLua:1: /, code);
    assertServes(t, k, code);
  }
  const r = call(k, 'x = = 1');
  t.regex(r.text, /near '='/);
});

test('-ENOEXEC: a binary chunk, fake ("\\x1bLua...") or genuine bytecode', async (t) => {
  const fake = Uint8Array.from([0x1b, 0x4c, 0x75, 0x61, 0x54, 0x00, 0x19, 0x93, 0x0d, 0x0a]);
  const real = await luaBytecode();
  t.deepEqual([...real.subarray(0, 4)], [0x1b, 0x4c, 0x75, 0x61]);
  for (const code of [fake, real, '\x1bLua', '\x1b']) {
    const r = call(k, code);
    t.is(r.rc, ENOEXEC);
    t.regex(r.text, /binary chunk/);
    assertServes(t, k);
  }
});

test('error messages are snprintf-truncated like values', (t) => {
  const full = call(k, 'error("0123456789", 0)');
  t.is(full.text, '0123456789');
  const buf = sentinelBuffer(8);
  t.is(k.sysLua('error("0123456789", 0)', 22, buf, 5), ECANCELED);
  t.is(decoder.decode(buf.subarray(0, 4)), '0123');
  t.is(buf[4], 0);
  t.true(untouched(buf.subarray(5)));
  const none = sentinelBuffer(4);
  t.is(k.sysLua('error("x")', 10, none, 0), ECANCELED);
  t.true(untouched(none));
});

// ---------------------------------------------------------------- -ECANCELED

test('-ECANCELED: runtime errors with their message', (t) => {
  const cases: [string, RegExp][] = [
    ['error("plain")', /^sysLua:1: plain$/],
    ['error("no position", 0)', /^no position$/],
    ['return nil + 1', /attempt to perform arithmetic on a nil value/],
    ['local t = nil return t.x', /attempt to index a nil value \(local 't'\)/],
    ['return #5', /attempt to get length of a number value/],
    ['return 1 // 0', /attempt to (perform 'n\/\/0'|divide by zero)/],
    ['return ("x"):bad()', /attempt to call a nil value \(method 'bad'\)/],
    ['return string.rep()', /bad argument #1 to 'rep'/],
    ['local t = setmetatable({}, { __index = function(t, k) return t[k] end }) return t.x', /stack overflow/],
    ['return math.tointeger(2^63) + nil', /arithmetic on a nil value/],
  ];
  for (const [code, message] of cases) {
    const r = call(k, code);
    t.is(r.rc, ECANCELED, code);
    t.regex(r.text, message, code);
    assertServes(t, k, code);
  }
  t.like(call(k, 'local ok, e = pcall(error, "caught", 0) return e'), { rc: 6, text: 'caught' });
});

test('unbounded recursion: Lua\'s stack overflow (-ECANCELED), or the memory budget first (-ENOMEM)', (t) => {
  const rk = Kernel.boot();
  call(rk, 'kept = 1');
  const r = call(rk, 'local function f() f() end f()');
  if (r.rc === ECANCELED) t.regex(r.text, /stack overflow/);
  else t.like(r, { rc: ENOMEM, text: 'not enough memory' });
  t.like(call(rk, 'return kept'), { text: '1' });
  assertServes(t, rk);
  t.deepEqual(rk.shutdown().leaks, []);
});

test('-ECANCELED: non-string error values are described, never crash', (t) => {
  const cases: [string, RegExp][] = [
    ['error({})', /table/],
    ['error(nil)', /nil/],
    ['error()', /nil/],
    ['error(print)', /function/],
    ['error(true)', /boolean/],
    ['error(coroutine.create(print))', /thread/],
    // Numbers are convertible to strings, so lua.c's message handler prints them.
    ['error(42)', /^42$/],
    ['error(4.5)', /^4\.5$/],
    ['error(setmetatable({}, { __tostring = function() return "described" end }))', /^described$/],
  ];
  for (const [code, message] of cases) {
    const r = call(k, code);
    t.is(r.rc, ECANCELED, code);
    t.regex(r.text, message, code);
    assertServes(t, k, code);
  }
});

test('-ECANCELED: error objects whose __tostring misbehaves still give a useful message', (t) => {
  const hostile = [
    'error(setmetatable({}, { __tostring = function() error("inner boom") end }))',
    'error(setmetatable({}, { __tostring = function() error({}) end }))',
    'error(setmetatable({}, { __tostring = function() return {} end }))',
    'error(setmetatable({}, { __tostring = function() return nil end }))',
    'error(setmetatable({}, { __tostring = function() return true end }))',
    'error(setmetatable({}, { __tostring = function() coroutine.yield() end }))',
    'error(setmetatable({}, { __tostring = "not a function" }))',
    'local mt = {} mt.__tostring = function(v) return tostring(v) end error(setmetatable({}, mt))',
    'local mt = {} mt.__tostring = function(v) error(setmetatable({}, mt)) end error(setmetatable({}, mt))',
    'error(setmetatable({}, { __tostring = function() return string.rep("x", 1e9) end }))',
  ];
  for (const code of hostile) {
    const r = call(k, code);
    t.true(r.rc === ECANCELED || r.rc === ENOMEM, `${code}: ${r.rc}`);
    t.true(r.text.length > 0, `${code}: a message`);
    assertServes(t, k, code);
  }
  t.regex(call(k, hostile[0]!).text, /table|inner boom/);
});

test('-ECANCELED: an error value far larger than the result is truncated, rc unchanged', (t) => {
  const buf = sentinelBuffer(64);
  t.is(k.sysLua('error(string.rep("e", 1e6), 0)', 30, buf, 64), ECANCELED);
  t.is(decoder.decode(buf.subarray(0, 63)), 'e'.repeat(63));
  t.is(buf[63], 0);
});

// ---------------------------------------------------------------- -ENOMEM

test('-ENOMEM: memory bombs, and the next call (and the globals) survive', (t) => {
  const mk = Kernel.boot();
  t.is(call(mk, 'kept = "still here"').rc, 0);
  const bombs = [
    'return string.rep("x", 1e9)',
    'local t = {} for i = 1, 1e9 do t[i] = i end',
    'local t = {} local s = "x" while true do s = s .. s t[#t + 1] = s end',
    'local t = {} for i = 1, 1e9 do t[#t + 1] = { i } end',
  ];
  for (const code of bombs) {
    const r = call(mk, code);
    t.is(r.rc, ENOMEM, code);
    t.regex(r.text, /not enough memory/, code);
    assertServes(t, mk, code);
    t.like(call(mk, 'return kept'), { text: 'still here' });
  }
  t.deepEqual(mk.shutdown().leaks, [], 'nothing leaked after the bombs');
});

test('-ENOMEM: a small budget is enforced too', (t) => {
  const small = Kernel.boot({ memory: { limit: 1024 * 1024 } });
  t.like(call(small, 'return #string.rep("x", 100000)'), { text: '100000' });
  t.is(call(small, 'return #string.rep("x", 2 * 1024 * 1024)').rc, ENOMEM);
  t.is(call(small, 'local t = {} for i = 1, 1e6 do t[i] = tostring(i) end').rc, ENOMEM);
  assertServes(t, small);
  const isolated = Kernel.boot({ isolate: true, memory: { limit: 1024 * 1024 } });
  t.is(call(isolated, 'local t = {} for i = 1, 1e6 do t[i] = {} end').rc, ENOMEM);
  assertServes(t, isolated);
});

test('-ENOMEM: a budget too small for a Lua state and its libraries fails each call cleanly', (t) => {
  for (const limit of [4096, 16384, 32768]) {
    const tiny = Kernel.boot({ isolate: true, memory: { limit } });
    for (let i = 0; i < 3; i++) {
      const r = call(tiny, 'return 1');
      t.is(r.rc, ENOMEM, `limit ${limit}`);
      t.regex(r.text, /not enough memory/);
    }
    t.false(tiny.dmesg().some((rec) => /panic/.test(rec.text)), 'not a kernel panic');
    t.deepEqual(tiny.shutdown().leaks, []);
  }
});

// Running out of memory while the result is converted (a __tostring that allocates too
// much) is still "memory budget exhausted".
test('-ENOMEM: running out of memory while converting the result is -ENOMEM', (t) => {
  const r = call(k, 'return setmetatable({}, { __tostring = function() return string.rep("x", 1e9) end })');
  t.is(r.rc, ENOMEM);
});

const ETIME = -errno.ETIME;

test('-ETIME: the instruction budget, which no pcall, coroutine or metamethod can escape', (t) => {
  const tk = Kernel.boot({ limits: { instructions: 100_000 } });
  t.is(call(tk, 'kept = 1').rc, 0);
  const loops = [
    'while true do end',
    'local ok = pcall(function() while true do end end) return "caught"',
    'local ok = xpcall(function() while true do end end, function() while true do end end) return "caught"',
    'return coroutine.wrap(function() while true do end end)()',
    'local co = coroutine.create(function() while true do end end) return coroutine.resume(co)',
    'return load("while true do end")()',
    'return setmetatable({}, { __tostring = function() while true do end end })',
    'error(setmetatable({}, { __tostring = function() while true do end end }))',
    'local function f() return f() end return f()',
  ];
  for (const code of loops) {
    const r = call(tk, code);
    t.is(r.rc, ETIME, code);
    t.true(r.text.length > 0, `${code}: a message in the result`);
    assertServes(t, tk, code);
  }
  // The budget is per call, not cumulative; the state (and its globals) survive.
  for (let i = 0; i < 20; i++) t.like(call(tk, 'local s = 0 for i = 1, 10000 do s = s + i end return s'), { text: '50005000' });
  t.like(call(tk, 'return kept'), { text: '1' });
  t.deepEqual(tk.shutdown().leaks, []);
});

test('-ETIME: the wall-clock limit stops a loop; isolate kernels and async work are limited too', async (t) => {
  const timed = Kernel.boot({ limits: { timeMs: 20 } });
  t.is(call(timed, 'while true do end').rc, ETIME);
  assertServes(t, timed);
  const iso = Kernel.boot({ isolate: true, limits: { instructions: 1000 } });
  t.is(call(iso, 'while true do end').rc, ETIME);
  assertServes(t, iso);
  const ak = Kernel.boot({ limits: { instructions: 10_000 } });
  t.is(ak.sysLua('while true do end', 17, null, 0), 0);
  t.is(ak.sysLua('after = "ran"', 13, null, 0), 0);
  await new Promise((resolve) => setImmediate(resolve));
  await new Promise((resolve) => setImmediate(resolve));
  t.like(call(ak, 'return after'), { text: 'ran' }, 'the queue went on after the looping work');
});
// -EINTR (a kernel thread killed, or async work cancelled) is the kernel threads' row: test/threads/async.test.ts.

// ---------------------------------------------------------------- -EFAULT

const validCode = utf8('return 1');

/** Things that are neither a Uint8Array nor a string (nor null, which only `result` may be). */
function notBytes(): [string, unknown][] {
  const u8 = utf8('return 1');
  return [
    ['number', 42], ['plain object', { length: 8 }], ['array', [...u8]], ['ArrayBuffer', u8.slice().buffer],
    ['Uint16Array', new Uint16Array(8)], ['Int8Array', new Int8Array(8)], ['Uint8ClampedArray', new Uint8ClampedArray(8)],
    ['DataView', new DataView(new ArrayBuffer(8))], ['undefined', undefined], ['boolean', true], ['bigint', 8n],
    ['symbol', Symbol('x')], ['function', () => 'return 1'], ['String object', new String('return 1')],
    ['Proxy of a Uint8Array', new Proxy(u8.slice(), {})],
    ['object inheriting from Uint8Array.prototype', Object.create(Uint8Array.prototype)],
    ['SharedArrayBuffer', new SharedArrayBuffer(8)],
  ];
}

test('-EFAULT: code that is not a Uint8Array or string; result untouched', (t) => {
  for (const [name, code] of [...notBytes(), ['null', null] as [string, unknown]]) {
    const buf = sentinelBuffer(16);
    t.is(k.sysLua(code as never, 8, buf, 16), EFAULT, name);
    t.true(untouched(buf), name);
    assertServes(t, k, name);
  }
});

test('-EFAULT: result that is neither a Uint8Array nor null', (t) => {
  for (const [name, result] of notBytes()) {
    t.is(k.sysLua(validCode, validCode.length, result as never, 8), EFAULT, name);
    t.is(k.sysLua(validCode, validCode.length, result as never, 0), EFAULT, `${name}, resultSz 0`);
    assertServes(t, k, name);
  }
});

test('-EFAULT: sizes beyond the arrays, and a null result with resultSz > 0', (t) => {
  const buf = sentinelBuffer(8);
  t.is(k.sysLua(validCode, validCode.length + 1, buf, 8), EFAULT, 'codeSz > code.length');
  t.is(k.sysLua('return 1', 9, buf, 8), EFAULT, 'codeSz > UTF-8 length of a string');
  t.is(k.sysLua('return "é"', 12, buf, 8), EFAULT, 'codeSz > UTF-8 length (11) of a string');
  t.is(k.sysLua(validCode, validCode.length, buf, 9), EFAULT, 'resultSz > result.length');
  t.is(k.sysLua(validCode, validCode.length, buf.subarray(0, 4), 5), EFAULT, 'resultSz > length of a subarray');
  t.is(k.sysLua(validCode, validCode.length, null, 1), EFAULT, 'null result with resultSz > 0');
  t.is(k.sysLua(new Uint8Array(0), 1, buf, 8), EFAULT, 'empty code, codeSz 1');
  t.true(untouched(buf));
  assertServes(t, k);
});

test('-EFAULT: an own `length` property cannot make the kernel read or write past the array', (t) => {
  const code = utf8('return 1');
  Object.defineProperty(code, 'length', { value: 4096 });
  const buf = sentinelBuffer(64);
  t.is(k.sysLua(code, 4096, buf, 64), EFAULT);
  t.true(untouched(buf));
  const result = sentinelBuffer(4);
  Object.defineProperty(result, 'length', { value: 4096 });
  t.is(k.sysLua('return "a long result"', 20, result, 4096), EFAULT);
  t.true(untouched(result));
  // Within the real lengths, such arrays work.
  t.is(k.sysLua(code, 8, result, 4), 1);
  t.deepEqual([...result.subarray(0, 2)], [0x31, 0]);
  assertServes(t, k);
});

test('arrays with own set/subarray/slice methods are read through the real typed array, not their methods', async (t) => {
  const hostile = (a: Uint8Array) => {
    for (const m of ['set', 'subarray', 'slice', 'fill', 'copyWithin']) {
      Object.defineProperty(a, m, { value: () => { throw new Error(`caller's ${m} ran`); } });
    }
    return a;
  };
  const pk = Kernel.boot();
  call(pk, 'kept = 1');
  const buf = hostile(sentinelBuffer(8));
  t.is(pk.sysLua(hostile(utf8('return 12')), 9, buf, 8), 2);
  t.deepEqual([...buf].slice(0, 3), [0x31, 0x32, 0]);
  t.is(pk.sysLua(hostile(utf8('queued = 5')), 10, null, 0), 0);
  await new Promise((resolve) => setImmediate(resolve));
  t.like(call(pk, 'return kept + queued'), { text: '6' }, 'no kernel panic, the state was kept');
});

test('Buffer, SharedArrayBuffer-backed and offset views are valid code and result arrays', (t) => {
  const shared = new Uint8Array(new SharedArrayBuffer(32));
  shared.set(utf8('return "shared"'));
  const sharedOut = new Uint8Array(new SharedArrayBuffer(16)).fill(0xa5);
  t.is(k.sysLua(shared, 15, sharedOut, 16), 6);
  t.is(decoder.decode(sharedOut.subarray(0, 6)), 'shared');
  t.is(sharedOut[6], 0);

  t.is(k.sysLua(Buffer.from('return "buf"'), 12, Buffer.alloc(8), 8), 3);

  // Views into the middle of larger arrays: only the view's bytes are read and written.
  const big = utf8('XXXXreturn 7 + 1YYYY');
  const out = sentinelBuffer(16);
  const window = out.subarray(4, 8);
  t.is(k.sysLua(big.subarray(4, 16), 12, window, 4), 1);
  t.deepEqual([...out.subarray(4, 6)], [0x38, 0]);
  t.true(untouched(out.subarray(0, 4)) && untouched(out.subarray(6)));
});

test('a detached code array is empty: codeSz > 0 is -EFAULT, codeSz 0 the empty program', (t) => {
  const pk = Kernel.boot();
  call(pk, 'kept = 1');
  const code = utf8('return 1');
  structuredClone(code.buffer, { transfer: [code.buffer] });
  t.is(code.length, 0);
  const buf = sentinelBuffer(4);
  t.is(pk.sysLua(code, 8, buf, 4), EFAULT);
  t.true(untouched(buf));
  t.is(pk.sysLua(code, 0, buf, 4), 0);
  t.is(buf[0], 0);
  t.like(call(pk, 'return kept'), { text: '1' }, 'no kernel panic, the state was kept');
  t.false(pk.dmesg().some((r) => /panic/.test(r.text)));
});

// ---------------------------------------------------------------- -EINVAL sizes

const badSizes: [string, unknown][] = [
  ['-1', -1], ['-0.5', -0.5], ['NaN', NaN], ['1.5', 1.5], ['Infinity', Infinity], ['-Infinity', -Infinity],
  ['2^53', 2 ** 53], ['MAX_SAFE_INTEGER + 2', Number.MAX_SAFE_INTEGER + 2], ['1e300', 1e300], ['-2^53', -(2 ** 53)],
  ['bigint', 8n], ['string', '8'], ['null', null], ['undefined', undefined], ['boolean', true],
  ['Number object', new Number(8)], ['object', { valueOf: () => 8 }],
];

test('-EINVAL: codeSz and resultSz that are not non-negative safe integers; result untouched', (t) => {
  for (const [name, size] of badSizes) {
    const a = sentinelBuffer(16);
    t.is(k.sysLua(validCode, size as number, a, 16), EINVAL, `codeSz ${name}`);
    t.true(untouched(a), `codeSz ${name}`);
    const b = sentinelBuffer(16);
    t.is(k.sysLua(validCode, validCode.length, b, size as number), EINVAL, `resultSz ${name}`);
    t.true(untouched(b), `resultSz ${name}`);
    t.is(k.sysLua(validCode, size as number, null, 0), EINVAL, `async codeSz ${name}`);
    assertServes(t, k, name);
  }
});

test('sizes: -0 is zero, MAX_SAFE_INTEGER is a size (too large for the arrays: -EFAULT)', (t) => {
  const buf = sentinelBuffer(8);
  t.is(k.sysLua(validCode, validCode.length, buf, -0), 1);
  t.true(untouched(buf));
  t.is(k.sysLua(validCode, -0, buf, 8), 0, 'codeSz -0: the empty program');
  t.is(k.sysLua(validCode, Number.MAX_SAFE_INTEGER, buf, 8), EFAULT);
  t.is(k.sysLua(validCode, validCode.length, buf, Number.MAX_SAFE_INTEGER), EFAULT);
});

// ---------------------------------------------------------------- -E2BIG

test('-E2BIG: codeSz above the code size limit; a trailing NUL may be the extra byte', (t) => {
  const small = Kernel.boot({ limits: { codeSize: 16 } });
  const sixteen = 'return 123456789'; // 16 bytes
  t.is(Buffer.byteLength(sixteen), 16);
  t.like(call(small, sixteen), { rc: 9, text: '123456789' });
  const buf = sentinelBuffer(32);
  t.is(small.sysLua(`${sixteen}0`, 17, buf, 32), E2BIG);
  t.is(small.sysLua(utf8(`${sixteen}0`), 17, buf, 32), E2BIG);
  t.is(small.sysLua(utf8(`${sixteen}0`), 17, null, 0), E2BIG, 'async too');
  t.true(untouched(buf));
  // Multi-byte: 11 UTF-16 units but 17 UTF-8 bytes.
  const accented = 'return "ééééé"';
  t.is(Buffer.byteLength(accented), 19);
  t.is(small.sysLua(accented, 19, buf, 32), E2BIG);
  t.true(untouched(buf));
  // The terminating NUL of lunatik-ng's convention does not count against the limit.
  t.like(call(small, `${sixteen}\0`), { rc: 9, text: '123456789' });
  t.like(call(small, utf8(`${sixteen}\0`)), { rc: 9, text: '123456789' });
  // Only codeSz matters, not the array's size.
  const long = new Uint8Array(1 << 20);
  long.set(utf8('return 5'));
  t.like((() => { const b = new Uint8Array(4); return { rc: small.sysLua(long, 8, b, 4), text: decoder.decode(b.subarray(0, 1)) }; })(), { rc: 1, text: '5' });
  assertServes(t, small);
});

test('default code size limit is 1 MiB', (t) => {
  const big = new Uint8Array((1 << 20) + 2).fill(0x20);
  big.set(utf8('return 3'));
  const buf = new Uint8Array(4);
  t.is(k.sysLua(big, 1 << 20, buf, 4), 1);
  t.is(k.sysLua(big, (1 << 20) + 1, buf, 4), E2BIG);
  t.is(k.sysLua(big, (1 << 20) + 2, buf, 4), E2BIG);
  assertServes(t, k);
});

// ---------------------------------------------------------------- asynchronous calls

test('async: result null and resultSz 0 returns 0 at once and runs later, in submission order', async (t) => {
  const ak = Kernel.boot();
  const submit = (code: string) => ak.sysLua(code, Buffer.byteLength(code), null, 0);
  t.is(submit('order = (order or "") .. "a"'), 0);
  t.is(call(ak, 'return order').rc, 0, 'not run yet: nil');
  t.is(submit('order = (order or "") .. "b"'), 0);
  t.is(submit('error("async errors are logged")'), 0);
  t.is(submit('x ='), 0, 'syntax errors too');
  const bytes = utf8('order = (order or "") .. "c"');
  t.is(ak.sysLua(bytes, bytes.length, null, 0), 0);
  bytes.fill(0x20); // copy_from_user happened at submission
  t.is(submit('order = (order or "") .. "d"'), 0);
  await new Promise((resolve) => setImmediate(resolve));
  await new Promise((resolve) => setImmediate(resolve));
  t.like(call(ak, 'return order'), { text: 'abcd' });
  t.true(ak.dmesg().some((r) => r.level === 3 && /ECANCELED: sysLua:1: async errors are logged/.test(r.text)));
  t.true(ak.dmesg().some((r) => r.level === 3 && /ENOEXEC/.test(r.text)));
  assertServes(t, ak);
});

test('async: work still queued at shutdown never runs', async (t) => {
  const ak = Kernel.boot();
  t.is(ak.sysLua('print("ran")', 11, null, 0), 0);
  ak.shutdown();
  await new Promise((resolve) => setImmediate(resolve));
  await new Promise((resolve) => setImmediate(resolve));
  t.false(ak.dmesg().some((r) => r.text === 'ran'));
});

test('async: on an isolate kernel the work runs on a fresh state', async (t) => {
  const ik = Kernel.boot({ isolate: true });
  t.is(ik.sysLua('print("iso async")', 18, null, 0), 0);
  await new Promise((resolve) => setImmediate(resolve));
  await new Promise((resolve) => setImmediate(resolve));
  t.true(ik.dmesg().some((r) => r.text === 'iso async'));
  assertServes(t, ik);
});

// ---------------------------------------------------------------- -EBUSY

/** A module whose global `hook()` runs whatever host code a test sets: a way back into the host from a running script. */
let hookBody: (() => void) | null = null;
const hookModule: LunatikModule = {
  name: 'test_hook',
  init(ctx) {
    ctx.function('hook', () => {
      hookBody?.();
      return 0;
    });
  },
};

/** Runs `inner` from inside a script running on `kernel` (which has hookModule loaded). */
function fromInside<T>(kernel: Kernel, code: string, inner: () => T): { outer: ReturnType<typeof call>; inner: T | undefined } {
  let value: T | undefined;
  hookBody = () => {
    value = inner();
  };
  try {
    return { outer: call(kernel, code), inner: value };
  } finally {
    hookBody = null;
  }
}

test('-EBUSY: re-entering the kernel from inside a running script; result untouched', (t) => {
  const bk = Kernel.boot({ modules: [hookModule] });
  const buf = sentinelBuffer(8);
  const r = fromInside(bk, 'hook() return "outer"', () => [
    bk.sysLua('return 1', 8, buf, 8),
    bk.sysLua('return 1', 8, null, 0),
    bk.exec('return 1').rc,
  ]);
  t.deepEqual(r.inner, [EBUSY, EBUSY, EBUSY]);
  t.true(untouched(buf));
  t.like(r.outer, { rc: 5, text: 'outer' });
  assertServes(t, bk, 'after the busy call');
});

test('-EBUSY is per kernel: another kernel can be called from inside a script', (t) => {
  const a = Kernel.boot({ modules: [hookModule] });
  const b = Kernel.boot();
  const r = fromInside(a, 'hook() return "a"', () => call(b, 'return "b"'));
  t.like(r.inner, { rc: 1, text: 'b' });
  t.like(r.outer, { rc: 1, text: 'a' });
});

test.serial('-EBUSY: module-level sysLua re-entered from a script on the default kernel', (t) => {
  const dk = defaultKernelInstance();
  t.is(dk.insmod(hookModule), 0);
  const buf = sentinelBuffer(8);
  const r = fromInside(dk, 'hook() return 3', () => sysLua('return 1', 8, buf, 8));
  t.is(r.inner, EBUSY);
  t.true(untouched(buf));
  t.like(r.outer, { rc: 1, text: '3' });
});

// ---------------------------------------------------------------- -ESHUTDOWN

test('-ESHUTDOWN: every call after shutdown; result untouched; shutdown is idempotent', (t) => {
  const sk = Kernel.boot();
  call(sk, 't = {} for i = 1, 100 do t[i] = { tostring(i) } end co = coroutine.create(function() end)');
  t.deepEqual(sk.shutdown(), { rc: 0, leaks: [] }, 'a clean kernel leaks nothing');
  t.true(sk.isShutdown);
  const buf = sentinelBuffer(8);
  t.is(sk.sysLua('return 1', 8, buf, 8), ESHUTDOWN);
  t.is(sk.sysLua('return 1', 8, null, 0), ESHUTDOWN);
  t.is(sk.sysLua(42 as never, NaN, {} as never, -1), ESHUTDOWN, 'even with bad arguments');
  t.true(untouched(buf));
  t.is(sk.exec('return 1').rc, ESHUTDOWN);
  t.deepEqual(sk.shutdown(), { rc: 0, leaks: [] });
});

// ---------------------------------------------------------------- the code argument

test('code: multi-byte UTF-8 strings, codeSz counted in UTF-8 bytes', (t) => {
  const code = 'local s = "日本語 😀" return #s .. ":" .. s';
  const r = call(k, code);
  t.is(r.text, `${Buffer.byteLength('日本語 😀')}:日本語 😀`);
  // codeSz in UTF-16 units cuts the code short: the string literal is left unfinished.
  const buf = new Uint8Array(64);
  t.is(k.sysLua(code, code.length, buf, 64), ENOEXEC);
  // The same bytes as a Uint8Array.
  t.is(call(k, utf8(code)).text, r.text);
});

test('code: only the first codeSz bytes run', (t) => {
  const buf = new Uint8Array(8);
  t.is(k.sysLua('return 12345', 8, buf, 8), 1);
  t.is(buf[0], 0x31);
  t.is(k.sysLua(utf8('return 12345'), 9, buf, 8), 2);
  t.is(k.sysLua('return 12345', 0, buf, 8), 0, 'codeSz 0 is the empty program');
});

test('code: one trailing NUL inside codeSz is dropped; a second one, or an embedded NUL, is a syntax error', (t) => {
  t.like(call(k, 'return 1\0'), { rc: 1, text: '1' });
  t.like(call(k, utf8('return 1\0')), { rc: 1, text: '1' });
  t.like(call(k, '\0'), { rc: 0 });
  t.is(call(k, 'return 1\0\0').rc, ENOEXEC);
  t.is(call(k, 'return 1\0 + 1').rc, ENOEXEC);
  t.is(call(k, '\0return 1').rc, ENOEXEC);
  // A NUL byte inside a string literal is just a byte of the string.
  const r = call(k, 'return "a\0b"');
  t.is(r.rc, 3);
  t.deepEqual([...r.buf.subarray(0, 4)], [0x61, 0, 0x62, 0]);
  assertServes(t, k);
});

test('code: the empty program returns 0 with an empty result', (t) => {
  for (const code of ['', new Uint8Array(0), ' ', '\n', '-- just a comment', '\0']) {
    const buf = sentinelBuffer(4);
    t.is(k.sysLua(code, typeof code === 'string' ? Buffer.byteLength(code) : code.length, buf, 4), 0);
    t.is(buf[0], 0);
    t.true(untouched(buf.subarray(1)));
  }
});

// Only what codeSz needs of a string is encoded: the first bytes of a huge string run
// without a transfer buffer of three times its length.
test('code: codeSz bytes of a huge string run without copying the whole string', (t) => {
  const buf = new Uint8Array(8);
  t.is(k.sysLua(`return 1${' '.repeat(1e8)}`, 8, buf, 8), 1);
});

// ---------------------------------------------------------------- the chunk cache is invisible

test('repeated calls give what a fresh load gives, whatever form the code comes in', (t) => {
  const persistent = Kernel.boot(); // caches compiled chunks by source
  const reference = Kernel.boot({ isolate: true }); // compiles every time
  const programs = [
    'return 1 + 1', 'return "é"', 'return #"é"', 'x =', 'return {}', 'error("e", 0)', 'return select("#", ...)',
    'local t = {} t[1] = 5 return t[1]', 'return (function(...) return ... end)(3)', 'return 1\0',
  ];
  const forms = (p: string): (string | Uint8Array)[] => [p, utf8(p), `${p}\0`, utf8(`${p}\0`)];
  for (let round = 0; round < 3; round++) {
    for (const program of programs) {
      for (const form of forms(program)) {
        const got = call(persistent, form);
        const want = call(reference, form);
        t.deepEqual([got.rc, got.text], [want.rc, want.text], `${JSON.stringify(program)} round ${round}`);
      }
    }
  }
});

// The string 'b = 1 return b' and the bytes ' = 1 return b' must not share a chunk-cache
// entry (a byte source's key is "b" + its latin1 spelling).
test('the chunk cache never confuses a string source with a different byte source', (t) => {
  const ck = Kernel.boot();
  for (let i = 0; i < 3; i++) t.like(call(ck, 'b = 1 return b'), { rc: 1, text: '1' });
  const r = call(ck, utf8(' = 1 return b'));
  t.is(r.rc, ENOEXEC, `the bytes are a syntax error, got ${r.rc} ${JSON.stringify(r.text)}`);
});

// ---------------------------------------------------------------- module-level sysLua

test.serial('module-level sysLua uses a lazily booted default kernel that persists, and reboots after shutdown', (t) => {
  const buf = new Uint8Array(16);
  t.is(sysLua('shared = 41', 11, buf, 16), 0);
  t.is(sysLua('return shared + 1', 17, buf, 16), 2);
  t.is(decoder.decode(buf.subarray(0, 2)), '42');
  const first = defaultKernelInstance();
  t.is(defaultKernelInstance(), first);
  t.is(sysLua(42 as never, 1, buf, 16), EFAULT, 'module-level sysLua never throws either');
  first.shutdown();
  t.is(sysLua('return shared', 13, buf, 16), 0, 'a new default kernel: shared is nil');
  t.not(defaultKernelInstance(), first);
  t.is(sysLua('return 1+1', 10, buf, 16), 1);
});
