// lunatik_crypto: SHA-1 test vectors (FIPS 180's "abc", one million "a", and lengths
// around the 64-byte block and its 55/56-byte padding boundary, checked against
// node:crypto), random bytes, and bad input.
import test from 'ava';
import { createHash } from 'node:crypto';
import { Kernel } from '../../src/index.js';
import { ECANCELED, ENOMEM, assertLuaError, assertServes, sys } from './helpers.js';

const kernel = Kernel.boot();

const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex');
const nodeSha1 = (bytes: Uint8Array): string => createHash('sha1').update(bytes).digest('hex');

/** The digest as raw bytes (the script returns the 20-byte buffer). */
function sha1Of(luaExpr: string, k = kernel): string {
  const r = sys(k, `return crypto.sha1(${luaExpr})`);
  if (r.rc !== 20) throw new Error(`crypto.sha1(${luaExpr}) -> ${r.rc} ${r.text}`);
  return hex(r.bytes);
}

/** Lua source of a buffer holding `n` bytes of a fixed pattern, and the same bytes in JS. */
function pattern(n: number): [string, Uint8Array] {
  const bytes = Uint8Array.from({ length: n }, (_, i) => (i * 31 + 7) & 255);
  return [`(function() local b = buffer.new(${n}) for i = 1, ${n} do b[i] = ((i - 1) * 31 + 7) & 255 end return b end)()`, bytes];
}

test('the seed examples: crypto.sha1 of a buffer, crypto.random(16)', (t) => {
  t.is(kernel.exec('buf = buffer.new(16); buf[1] = 100; buf[16] = 255; h = crypto.sha1(buf); return #h').value, '20');
  const expected = new Uint8Array(16);
  expected[0] = 100;
  expected[15] = 255;
  t.is(hex(sys(kernel, 'return h').bytes), nodeSha1(expected));
  t.is(kernel.exec('r = crypto.random(16); return #r .. " " .. tostring(r)').value, '16 buffer: 16 bytes');
});

test('FIPS 180 vectors', (t) => {
  t.is(sha1Of('buffer.from("abc")'), 'a9993e364706816aba3e25717850c26c9cd0d89d');
  t.is(sha1Of('buffer.new(0)'), 'da39a3ee5e6b4b0d3255bfef95601890afd80709');
  t.is(sha1Of('buffer.from(string.rep("a", 1000000))'), '34aa973cd4c4daa4f61eeb2bdbad27316534016f');
  t.is(sha1Of('buffer.from("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq")'), '84983e441c3bd26ebaae4aa1f95129e5e54670f1');
});

test('lengths around the block and padding boundaries, and a 4096-byte page, match node:crypto', (t) => {
  for (const n of [1, 55, 56, 63, 64, 65, 119, 120, 127, 128, 129, 4096, 4097]) {
    const [expr, bytes] = pattern(n);
    t.is(sha1Of(expr), nodeSha1(bytes), `length ${n}`);
  }
});

test('large inputs: any size within the budget (no PAGE_SIZE limit)', (t) => {
  const n = 3 * 1024 * 1024 + 17;
  const bytes = Uint8Array.from({ length: n }, (_, i) => (i * 131) >>> 3 & 255);
  const r = kernel.exec(`big = buffer.new(${n}) for i = 1, ${n} do big[i] = ((i - 1) * 131) >> 3 & 255 end return #big`);
  t.is(r.value, String(n));
  t.is(sha1Of('big'), nodeSha1(bytes));
  kernel.exec('big = nil');
});

test('a Lua string is hashed like a buffer with the same bytes', (t) => {
  t.is(sha1Of('"abc"'), 'a9993e364706816aba3e25717850c26c9cd0d89d');
  t.is(sha1Of('""'), 'da39a3ee5e6b4b0d3255bfef95601890afd80709');
  t.is(kernel.exec('local s = "\\0\\1\\255" return crypto.sha1(s):tostring() == crypto.sha1(buffer.from(s)):tostring()').value, 'true');
});

test('the digest is a new 20-byte buffer; the input is unchanged', (t) => {
  const r = kernel.exec(`
    local b = buffer.from("abc")
    local h = crypto.sha1(b)
    h[1] = 0
    return tostring(h) .. "|" .. b:tostring() .. "|" .. crypto.sha1(b)[1]`);
  t.is(r.value, 'buffer: 20 bytes|abc|169');
});

test('crypto.random gives n bytes that vary', (t) => {
  for (const n of [0, 1, 16, 4096, 100000]) t.is(kernel.exec(`return #crypto.random(${n})`).value, String(n));
  const a = sys(kernel, 'return crypto.random(4096)').bytes;
  const b = sys(kernel, 'return crypto.random(4096)').bytes;
  t.is(a.length, 4096);
  t.notDeepEqual(a, b);
  t.true(new Set(a).size > 200, 'the bytes take many values');
  // From a fair source each value appears 32 times in 8192 bytes on average; three times that is
  // far beyond any plausible fluctuation (a stuck or biased source would exceed it).
  const counts = new Array<number>(256).fill(0);
  for (const x of [...a, ...b]) counts[x]!++;
  t.true(Math.max(...counts) < 8192 / 256 * 3, `max count ${Math.max(...counts)}`);
  t.is(kernel.exec('local r = crypto.random(32) local t = r() return #t').value, '32');
});

test('bad arguments are Lua errors, and the kernel goes on', (t) => {
  const cases: [string, RegExp][] = [
    ['crypto.sha1()', /bad argument #1 to 'sha1' \(buffer or string expected, got no value\)/],
    ['crypto.sha1(nil)', /buffer or string expected, got nil/],
    ['crypto.sha1(42)', /bad argument #1 to 'sha1' \(buffer or string expected, got number\)/],
    ['crypto.sha1({})', /buffer or string expected, got table/],
    ['crypto.sha1(print)', /buffer or string expected, got function/],
    ['crypto.random()', /bad argument #1 to 'random' \(number expected, got no value\)/],
    ['crypto.random("16")', /bad argument #1 to 'random' \(number expected, got string\)/],
    ['crypto.random(buffer.new(1))', /number expected, got lunatik\.buffer/],
    ['crypto.random(-1)', /bad argument #1 to 'random' \(size must not be negative, got -1\)/],
    ['crypto.random(0/0)', /number has no integer representation/],
    ['crypto.random(1.5)', /number has no integer representation/],
    ['crypto.random(2^53)', /size 9007199254740992 is too large/],
    ['crypto.random(math.maxinteger)', /size 9223372036854775807 is too large/],
  ];
  for (const [code, pattern] of cases) assertLuaError(t, kernel, `return ${code}`, pattern);
});

test('sha1 rejects foreign userdata', (t) => {
  const k = Kernel.boot();
  k.insmod({
    name: 'other',
    init(ctx) {
      ctx.userdata('test.other', {});
      ctx.function('other', (lua, L) => {
        lua.newUserdata(L, 8, 'test.other');
        return 1;
      });
    },
  });
  assertLuaError(t, k, 'return crypto.sha1(other())', /bad argument #1 to 'sha1' \(buffer or string expected, got test\.other\)/);
});

test('crypto.random beyond the budget is -ENOMEM, and the kernel goes on', (t) => {
  const small = Kernel.boot({ memory: { limit: 1 << 20 } });
  for (const n of ['1e9', '2^30', '(1 << 20) + 1']) {
    const r = sys(small, `return crypto.random(${n})`);
    t.is(r.rc, ENOMEM, `${n}: ${r.text}`);
    assertServes(t, small, n);
  }
  t.is(sys(small, 'return crypto.random(1e9)').rc, ENOMEM);
  t.is(sys(small, 'return #crypto.random(100000)').text, '100000');
  t.is(sys(small, 'return crypto.sha1(-1)').rc, ECANCELED);
});
