// Fuzzing sysLua: random code bytes, random argument tuples, and structured near misses
// whose expected errno is computed from the contract table (an independent model of the
// argument checks). sysLua must never throw, must return an integer that is >= 0 or one
// of the contract's negative errnos, and the kernel must keep answering afterwards.
import test from 'ava';
import fc from 'fast-check';
import { Kernel, errno } from '../../src/index.js';
import { CONTRACT_ERRNOS, assertServes } from './helpers.js';

const k = Kernel.boot();
const RESULT_SIZE = 64;

/** Calls sysLua and checks the invariants every call must keep; false on any violation. */
function wellBehaved(kernel: Kernel, code: unknown, codeSz: unknown, result: unknown, resultSz: unknown): boolean {
  let rc: unknown;
  try {
    rc = kernel.sysLua(code as never, codeSz as never, result as never, resultSz as never);
  } catch {
    return false;
  }
  return typeof rc === 'number' && Number.isSafeInteger(rc) && (rc >= 0 || CONTRACT_ERRNOS.has(rc));
}

const serves = (kernel: Kernel): boolean => {
  const buf = new Uint8Array(4);
  return kernel.sysLua('return 1+1', 10, buf, 4) === 1 && buf[0] === 0x32 && buf[1] === 0;
};

test('10,000 random byte strings as code', (t) => {
  const result = new Uint8Array(RESULT_SIZE);
  let i = 0;
  fc.assert(fc.property(fc.uint8Array({ maxLength: 96 }), (code) => {
    const rc = k.sysLua(code, code.length, result, RESULT_SIZE);
    if (!Number.isSafeInteger(rc) || !(rc >= 0 || CONTRACT_ERRNOS.has(rc))) return false;
    // snprintf: a NUL right after what fits.
    if (rc >= 0 && result[Math.min(rc, RESULT_SIZE - 1)] !== 0) return false;
    return ++i % 500 !== 0 || serves(k);
  }), { numRuns: 10_000 });
  assertServes(t, k);
});

// Fragments of Lua that mostly parse, so the fuzzer reaches the VM, the error paths and
// the result conversion. No loops, function definitions or string-search functions: the
// kernel has no deadline yet, and those could run for ever.
const fragments = [
  'return', ' ', '(', ')', '{', '}', '[', ']', ',', '=', '..', '+', '-', '*', '/', '//', '%', '^', '#', '~', '<<',
  '==', '<', 'and', 'or', 'not', 'nil', 'true', 'false', '0', '1', '-1', '1.5', '2^63', '0/0', '1e308', '"s"', "'\\0'",
  '"\\xff"', 'local x', 'x', ';', 'error', 'error(', 'tostring', 'tostring(', 'select', 'pcall(', 'type(', 'setmetatable(',
  '{ __tostring = ', '{ __index = ', 'math.maxinteger', 'math.mininteger', 'math.huge', 'coroutine.running()',
  'string.rep("x", 9)', 'utf8.char(', 'table.concat(', 'table.unpack(', 'rawlen(', 'next(', 'print(', 'warn(',
  '\0', '\n', '--', '[[', ']]', ':', 'string', '_G', '_ENV', '...', 'if', 'then', 'end', 'do', 'goto', '::l::',
];

test('10,000 token soups as code', (t) => {
  const result = new Uint8Array(RESULT_SIZE);
  fc.assert(fc.property(fc.array(fc.constantFrom(...fragments), { maxLength: 24 }), (parts) => {
    const code = parts.join('');
    return wellBehaved(k, code, Buffer.byteLength(code), result, RESULT_SIZE);
  }), { numRuns: 10_000 });
  assertServes(t, k);
});

test('random unicode strings as code, codeSz counted in UTF-8 bytes', (t) => {
  const result = new Uint8Array(RESULT_SIZE);
  fc.assert(fc.property(fc.string({ unit: 'binary', maxLength: 40 }), (code) =>
    wellBehaved(k, code, Buffer.byteLength(code), result, RESULT_SIZE)), { numRuns: 1000 });
  assertServes(t, k);
});

test('random argument tuples: fc.anything() for each argument', async (t) => {
  const anything = fc.anything({
    withBigInt: true, withBoxedValues: true, withTypedArray: true, withSparseArray: true, withNullPrototype: true,
    withMap: true, withSet: true, withDate: true, withObjectString: true, maxDepth: 2,
  });
  fc.assert(fc.property(anything, anything, anything, anything, (code, codeSz, result, resultSz) =>
    wellBehaved(k, code, codeSz, result, resultSz)), { numRuns: 5000 });
  // Let any asynchronous work the tuples submitted run, then check the kernel.
  await new Promise((resolve) => setImmediate(resolve));
  assertServes(t, k);
});

// ---------------------------------------------------------------- structured near misses

const LIMIT = 64;
const limited = Kernel.boot({ limits: { codeSize: LIMIT } });
const encoder = new TextEncoder();

interface Candidate {
  label: string;
  value: unknown;
  /** Byte length when it is a genuine Uint8Array or a string (UTF-8 bytes), else -1. */
  bytes: number;
}

const bytesOf = (u8: Uint8Array, label: string, length = u8.length): Candidate => ({ label, value: u8, bytes: length });

const codes: fc.Arbitrary<Candidate> = fc.oneof(
  fc.constantFrom('return 7', 'return "é"', 'x =', '', 'return {}', 'error("e")', `return "${'x'.repeat(60)}"`)
    .map((s) => ({ label: JSON.stringify(s), value: s, bytes: Buffer.byteLength(s) })),
  fc.uint8Array({ maxLength: 80 }).map((u) => bytesOf(u, 'random bytes')),
  fc.constantFrom('return 1', 'return 1\0').map((s) => bytesOf(encoder.encode(s), `bytes ${JSON.stringify(s)}`)),
  fc.constant(null).map(() => {
    const shared = new Uint8Array(new SharedArrayBuffer(16));
    shared.set(encoder.encode('return 3'));
    return bytesOf(shared, 'shared');
  }),
  fc.constantFrom<[string, () => unknown]>(
    ['number', () => 8], ['object', () => ({ length: 8 })], ['ArrayBuffer', () => new ArrayBuffer(8)],
    ['Uint16Array', () => new Uint16Array(8)], ['DataView', () => new DataView(new ArrayBuffer(8))],
    ['null', () => null], ['undefined', () => undefined], ['Proxy', () => new Proxy(new Uint8Array(8), {})],
    ['fake', () => Object.create(Uint8Array.prototype)], ['String', () => new String('return 1')],
  ).map(([label, make]) => ({ label, value: make(), bytes: -1 })),
);

const results: fc.Arbitrary<Candidate> = fc.oneof(
  fc.constant(null).map(() => ({ label: 'null', value: null, bytes: -1 })),
  fc.nat(40).map((n) => bytesOf(new Uint8Array(n).fill(0xa5), `Uint8Array(${n})`)),
  fc.nat(40).map((n) => bytesOf(new Uint8Array(new SharedArrayBuffer(n)).fill(0xa5), `shared(${n})`)),
  fc.nat(40).map((n) => {
    const u = new Uint8Array(n).fill(0xa5);
    Object.defineProperty(u, 'length', { value: n + 100 }); // lies about its length
    return bytesOf(u, `lying Uint8Array(${n})`, n);
  }),
  fc.constantFrom<[string, () => unknown]>(
    ['number', () => 8], ['object', () => ({})], ['ArrayBuffer', () => new ArrayBuffer(8)],
    ['Uint16Array', () => new Uint16Array(8)], ['DataView', () => new DataView(new ArrayBuffer(8))],
    ['undefined', () => undefined], ['Proxy', () => new Proxy(new Uint8Array(8), {})],
  ).map(([label, make]) => ({ label, value: make(), bytes: -1 })),
);

const sizes: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 6, arbitrary: fc.integer({ min: 0, max: 90 }) },
  { weight: 1, arbitrary: fc.integer({ min: -5, max: -1 }) },
  { weight: 1, arbitrary: fc.double() },
  { weight: 1, arbitrary: fc.bigInt() },
  {
    weight: 2,
    arbitrary: fc.constantFrom<unknown>(NaN, Infinity, -Infinity, -0, 0.5, 2 ** 53, Number.MAX_SAFE_INTEGER,
      Number.MAX_SAFE_INTEGER + 2, LIMIT, LIMIT + 1, '8', null, undefined, true, 8n),
  },
);

const isSize = (n: unknown): n is number => typeof n === 'number' && Number.isSafeInteger(n) && n >= 0;

/** The errnos the contract's argument rows give this tuple (any of them may be returned), or null if the arguments are valid. */
function argumentErrors(code: Candidate, codeSz: unknown, result: Candidate, resultSz: unknown): Set<number> | null {
  const errors = new Set<number>();
  const codeOk = code.bytes >= 0;
  const resultOk = result.value === null || result.bytes >= 0;
  if (!codeOk || !resultOk) errors.add(-errno.EFAULT);
  if (!isSize(codeSz) || !isSize(resultSz)) errors.add(-errno.EINVAL);
  if (isSize(codeSz) && isSize(resultSz) && codeOk && resultOk) {
    if (codeSz > code.bytes) errors.add(-errno.EFAULT);
    if (result.value === null ? resultSz > 0 : resultSz > result.bytes) errors.add(-errno.EFAULT);
    if (codeSz > LIMIT) {
      // lunatik-ng's terminating NUL may be the one byte over the limit.
      const raw = typeof code.value === 'string' ? encoder.encode(code.value) : code.value as Uint8Array;
      if (codeSz > LIMIT + 1 || codeSz > code.bytes || raw[codeSz - 1] !== 0) errors.add(-errno.E2BIG);
    }
  }
  return errors.size > 0 ? errors : null;
}

/** A Uint8Array's bytes through the real typed array (its own `length` may lie). */
const snapshot = (c: Candidate): number[] | null =>
  c.bytes >= 0 ? Array.from(new Uint8Array((c.value as Uint8Array).buffer, (c.value as Uint8Array).byteOffset, c.bytes)) : null;

test('structured near-miss tuples return exactly the errno the contract gives them, result untouched', async (t) => {
  fc.assert(fc.property(codes, sizes, results, sizes, (code, codeSz, result, resultSz) => {
    const before = snapshot(result);
    let rc: number;
    try {
      rc = limited.sysLua(code.value as never, codeSz as never, result.value as never, resultSz as never);
    } catch (e) {
      t.log(`threw ${String(e)} for ${code.label}, ${String(codeSz)}, ${result.label}, ${String(resultSz)}`);
      return false;
    }
    const expected = argumentErrors(code, codeSz, result, resultSz);
    if (expected !== null) {
      // An argument error: one of its errnos, and the result is untouched.
      return expected.has(rc) && JSON.stringify(snapshot(result)) === JSON.stringify(before);
    }
    if (result.value === null) return rc === 0; // asynchronous: 0 at once
    if (!Number.isSafeInteger(rc) || !(rc >= 0 || CONTRACT_ERRNOS.has(rc))) return false;
    // Not an argument error, so never one of the argument errnos.
    if (rc === -errno.EFAULT || rc === -errno.E2BIG || rc === -errno.EBUSY || rc === -errno.ESHUTDOWN) return false;
    // snprintf into the first resultSz bytes; nothing after them changes.
    const after = snapshot(result)!;
    const size = resultSz as number;
    if (after.slice(size).some((b, i) => b !== before![size + i])) return false;
    if (size > 0 && rc >= 0 && after[Math.min(rc, size - 1)] !== 0) return false;
    return true;
  }), { numRuns: 4000 });
  await new Promise((resolve) => setImmediate(resolve));
  assertServes(t, limited);
});
