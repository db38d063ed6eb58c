// Issue 10's bad input, each a test: none may throw or hurt the kernel. (Numbers at the
// edges, strings with NUL and lone surrogates, "__proto__" keys, metatables, float/boolean/
// table keys, non-JSON objects: mapping.test.ts; host functions throwing non-Errors:
// expose.test.ts.)
import test, { type ExecutionContext } from 'ava';
import { Kernel, errno } from '../../src/index.js';

const k = Kernel.boot();

function serves(t: ExecutionContext, kernel: Kernel = k): void {
  t.deepEqual(kernel.eval('return 1 + ...', [1]), { rc: 1, values: [2] }, 'the kernel still serves');
}

test('a cycle in a JS value is -EINVAL naming where it closes', (t) => {
  const a: Record<string, unknown> = { name: 'a' };
  const b = { back: a };
  a['next'] = [b];
  t.deepEqual(k.eval('return ...', [1, a]), { rc: -errno.EINVAL, error: 'args[1].next[0].back: cycle: the value contains itself' });
  const m = new Map<unknown, unknown>();
  m.set('self', m);
  t.like(k.eval('return ...', [m]), { rc: -errno.EINVAL });
  const shared = { x: 1 };
  t.like(k.eval('local t = ... return t[1].x + t[2].x', [[shared, shared]]), { rc: 1, values: [2] }, 'shared, not cyclic: fine');
  serves(t);
});

test('a cycle in a Lua result is -EINVAL; a table shared twice is not a cycle', (t) => {
  t.deepEqual(k.eval('local t = {1} t[2] = {t} return t'), { rc: -errno.EINVAL, error: 'values[0][2][1]: cycle: the table contains itself' });
  t.deepEqual(k.eval('local s = {7} return {s, s}'), { rc: 1, values: [[[7], [7]]] });
  serves(t);
});

test('nesting 10,000 deep both ways is -E2BIG', (t) => {
  let deep: unknown = 'bottom';
  for (let i = 0; i < 10_000; i++) deep = [deep];
  const into = k.eval('return ...', [deep]);
  t.is(into.rc, -errno.E2BIG);
  t.true(into.error!.endsWith(': nested deeper than limits.valueDepth (100 levels)'));
  let obj: unknown = {};
  for (let i = 0; i < 10_000; i++) obj = { o: obj };
  t.like(k.eval('return ...', [obj]), { rc: -errno.E2BIG });
  const out = k.eval('local t = {} for i = 1, 10000 do t = {t} end return t');
  t.is(out.rc, -errno.E2BIG);
  t.true(out.error!.endsWith(': nested deeper than limits.valueDepth (100 levels)'));
  serves(t);
});

test('a 10-million-element array into a 16 MiB kernel is -ENOMEM; the host is fine', (t) => {
  const small = Kernel.boot({ memory: { limit: 16 * 1024 * 1024 } });
  const huge = new Array<number>(10_000_000).fill(1);
  const r = small.eval('return #(...)', [huge]);
  t.is(r.rc, -errno.ENOMEM);
  serves(t, small);
  t.deepEqual(small.shutdown().leaks, []);
});

test('a Lua result of 10 million entries is -E2BIG at limits.valueEntries; host memory stays bounded', (t) => {
  // 10,000 references to one table of 1,000 entries: 10 million entries to convert, little Lua memory.
  const shared = k.eval('local row = {} for i = 1, 1000 do row[i] = i end local t = {} for i = 1, 10000 do t[i] = row end big = t return #t');
  t.deepEqual(shared, { rc: 1, values: [10000] });
  const r = k.eval('return big');
  t.deepEqual(r, { rc: -errno.E2BIG, error: 'values[0][1000]: more than limits.valueEntries (1000000) table entries' });
  k.exec('big = nil');
  const flat = Kernel.boot({ memory: { limit: 128 * 1024 * 1024 } });
  const wide = flat.eval('local t = {} for i = 1, 1500000 do t[i] = i end return t');
  t.like(wide, { rc: -errno.E2BIG });
  serves(t, flat);
  flat.shutdown();
  serves(t);
});

test('sparse and holey arrays: holes are nil; a sparse length past the entry limit is -E2BIG', (t) => {
  // eslint-disable-next-line no-sparse-arrays
  t.deepEqual(k.eval('local t = ... return t[1], t[2], t[3], t[4]', [[1, , undefined, 4]]), { rc: 4, values: [1, null, null, 4] });
  const sparse: number[] = [];
  sparse[5] = 6;
  t.deepEqual(k.eval('local t = ... return t[6], next(t)', [sparse]), { rc: 3, values: [6, 6, 6] });
  const huge: number[] = [];
  huge[2 ** 32 - 2] = 1;
  t.like(k.eval('return ...', [huge]), { rc: -errno.E2BIG });
  const wide: number[] = [];
  wide[1_000_000] = 1;
  t.like(k.eval('return ...', [wide]), { rc: -errno.E2BIG });
  t.like(k.eval('return select("#", ...)', huge), { rc: -errno.E2BIG }, 'as the argument list itself');
  t.deepEqual(k.eval('return select("#", ...)', sparse), { rc: 1, values: [6] });
  serves(t);
});

test('an object with a getter that throws is -EINVAL naming the property; a getter that works is read', (t) => {
  const o = { ok: 1, get broken(): number { throw new Error('getter failed'); } };
  t.deepEqual(k.eval('return ...', [{ inner: o }]), { rc: -errno.EINVAL, error: 'args[0].inner.broken: reading it threw getter failed' });
  t.deepEqual(k.eval('return (...).v', [{ get v() { return 'computed'; } }]), { rc: 1, values: ['computed'] });
  const args = [1];
  Object.defineProperty(args, 0, { get() { throw Symbol('nope'); } });
  t.deepEqual(k.eval('return ...', args), { rc: -errno.EINVAL, error: 'args[0]: reading it threw Symbol(nope)' });
  const infinite = { get x() { throw Infinity; } };
  t.like(k.eval('return ...', [infinite]), { rc: -errno.EINVAL, error: 'args[0].x: reading it threw Infinity' });
  serves(t);
});

test('Proxies are -EINVAL and none of their traps run', (t) => {
  let trapped = 0;
  const handler: ProxyHandler<object> = new Proxy({}, { get: () => () => { trapped++; throw new Error('trap'); } });
  t.like(k.eval('return ...', [new Proxy({ a: 1 }, handler)]), { rc: -errno.EINVAL, error: 'args[0]: a Proxy cannot cross' });
  t.like(k.eval('return ...', [new Proxy([1, 2], handler)]), { rc: -errno.EINVAL });
  t.like(k.eval('return ...', new Proxy([1], handler) as unknown[]), { rc: -errno.EINVAL, error: 'args: must be an array (or undefined)' });
  t.like(k.eval('return ...', [1], new Proxy({}, handler) as object), { rc: -errno.EINVAL });
  t.is(trapped, 1, 'only the options object was read (its own get trap)');
  serves(t);
});

test('symbols: a symbol value is -EINVAL, symbol keys are skipped', (t) => {
  t.deepEqual(k.eval('return ...', [[Symbol.iterator]]), { rc: -errno.EINVAL, error: 'args[0][0]: symbol cannot cross' });
  t.deepEqual(k.eval('local t = ... local n = 0 for _ in pairs(t) do n = n + 1 end return n', [{ [Symbol('k')]: 1, a: 2 }]), { rc: 1, values: [1] });
  serves(t);
});

test('functions, class instances, Dates, Promises, ArrayBuffers anywhere in a value are -EINVAL', (t) => {
  class Thing {}
  for (const bad of [() => 1, new Thing(), new Date(), Promise.resolve(), new ArrayBuffer(1), new Int32Array(1), new WeakMap()]) {
    t.like(k.eval('return ...', [{ list: [1, new Map([['k', bad]])] }]), { rc: -errno.EINVAL });
  }
  serves(t);
});

test('nil and NaN Map keys are -EINVAL', (t) => {
  t.deepEqual(k.eval('return ...', [new Map([[null, 1]])]), { rc: -errno.EINVAL, error: 'args[0][key null]: null cannot be a table key' });
  t.deepEqual(k.eval('return ...', [new Map([[NaN, 1]])]), { rc: -errno.EINVAL, error: 'args[0][key NaN]: NaN cannot be a table key' });
  serves(t);
});

test('a huge string argument is -ENOMEM in a small kernel, not a host crash', (t) => {
  const small = Kernel.boot({ memory: { limit: 4 * 1024 * 1024 } });
  t.like(small.eval('return #(...)', ['x'.repeat(8 * 1024 * 1024)]), { rc: -errno.ENOMEM });
  serves(t, small);
  t.deepEqual(small.shutdown().leaks, []);
});
