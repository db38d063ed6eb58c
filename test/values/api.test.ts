// kernel.eval, kernel.call and kernel.load: arguments as `...`, every result, the chunk
// cache, raw name lookups, handles, the errnos of the sysLua contract, and the limits.
import test from 'ava';
import { Kernel, errno } from '../../src/index.js';

const k = Kernel.boot();

test('eval: args are the chunk\'s ..., every return value comes back', (t) => {
  t.deepEqual(k.eval('local a, b = ... return a + b, a .. b, select("#", ...)', [2, 3]), { rc: 3, values: [5, '23', 2] });
  t.deepEqual(k.eval('return select("#", ...)'), { rc: 1, values: [0] });
  t.deepEqual(k.eval('return select("#", ...)', [1, undefined, null]), { rc: 1, values: [3] }, 'trailing nils count');
  t.deepEqual(k.eval(new TextEncoder().encode('return ...'), ['bytes source']), { rc: 1, values: ['bytes source'] });
});

test('eval: the same source with new arguments is compiled once (the chunk cache applies)', (t) => {
  const code = 'local n = ... return n * 2 -- eval cache test';
  t.deepEqual(k.eval(code, [1]).values, [2]);
  t.deepEqual(k.eval(code, [2]).values, [4]);
  t.deepEqual(k.eval(code, [3]).values, [6]);
  t.is(k.lastStats!.allocations, 0, 'a cached chunk called with numbers allocates nothing');
  k.eval(`${code} -- a new source`, [4]);
  t.true(k.lastStats!.allocations > 0, 'compiling allocates');
});

test('eval: lastStats includes the conversions', (t) => {
  k.eval('return ...', [Array.from({ length: 1000 }, (_, i) => `s${i}`)]);
  t.true(k.lastStats!.allocatedBytes > 1000 * 16, 'the argument table and its strings were allocated in the call');
});

test('eval: errors are the sysLua contract\'s errnos', (t) => {
  t.like(k.eval('return +'), { rc: -errno.ENOEXEC });
  t.like(k.eval('error("boom")'), { rc: -errno.ECANCELED, error: 'sysLua:1: boom' });
  t.like(k.eval('error("boom")', [], { name: 'rule' }), { rc: -errno.ECANCELED, error: 'rule:1: boom' });
  t.like(k.eval('error({})'), { rc: -errno.ECANCELED, error: '(error object is a table value)' });
  t.like(k.eval(42 as unknown as string), { rc: -errno.EFAULT });
  t.like(k.eval('return 1', 'not an array' as unknown as unknown[]), { rc: -errno.EINVAL, error: 'args: must be an array (or undefined)' });
  t.like(k.eval('return 1', [], { strings: 'utf16' } as unknown as { strings: 'text' }), { rc: -errno.EINVAL });
  const small = Kernel.boot({ limits: { codeSize: 16 } });
  t.like(small.eval('return "this is longer than sixteen bytes"'), { rc: -errno.E2BIG });
  small.shutdown();
});

test('eval: out of memory is -ENOMEM and the kernel serves on', (t) => {
  const tiny = Kernel.boot({ memory: { limit: 1024 * 1024 } });
  t.like(tiny.eval('local t = {} for i = 1, 1e7 do t[i] = i end'), { rc: -errno.ENOMEM });
  t.like(tiny.eval('return ...', [Array.from({ length: 200_000 }, (_, i) => `string ${i}`)]), { rc: -errno.ENOMEM });
  t.deepEqual(tiny.eval('return 1 + ...', [1]), { rc: 1, values: [2] });
  t.deepEqual(tiny.shutdown().leaks, []);
});

test('eval: the instruction budget gives -ETIME', (t) => {
  const limited = Kernel.boot({ limits: { instructions: 100_000 } });
  t.like(limited.eval('local n = ... while true do n = n + 1 end', [1]), { rc: -errno.ETIME });
  t.like(limited.call('pcall', [() => 1]), { rc: -errno.EINVAL });
  t.deepEqual(limited.eval('return ...', ['ok']), { rc: 1, values: ['ok'] });
  limited.shutdown();
});

test('call: a global function, or a dotted path through tables, looked up raw', (t) => {
  k.exec('function add(a, b) return a + b end layout = { v1 = { map = function(off, len) return off // 4096, len end } }');
  t.deepEqual(k.call('add', [40, 2]), { rc: 1, values: [42] });
  t.deepEqual(k.call('layout.v1.map', [8192, 512]), { rc: 2, values: [2, 512] });
  k.exec('setmetatable(_G, { __index = function(_, name) sneaky = name return function() return "meta" end end })');
  t.deepEqual(k.call('missing'), { rc: -errno.ENOENT, error: 'missing is not a function (it is nil)' });
  t.deepEqual(k.eval('return rawget(_G, "sneaky")'), { rc: 1, values: [null] }, '_G\'s __index never ran');
  k.exec('setmetatable(_G, nil)');
});

test('call: not a function, or a path through a non-table, is -ENOENT', (t) => {
  k.exec('notfn = 5 tbl = { x = 1 } fn = function() end');
  t.like(k.call('notfn'), { rc: -errno.ENOENT, error: 'notfn is not a function (it is number)' });
  t.like(k.call('tbl.x'), { rc: -errno.ENOENT });
  t.like(k.call('tbl.x.y'), { rc: -errno.ENOENT });
  t.like(k.call('fn.x'), { rc: -errno.ENOENT, error: 'fn.x is not a function (it is function)' });
  t.like(k.call('nothing.at.all'), { rc: -errno.ENOENT });
  t.like(k.call(''), { rc: -errno.EINVAL });
  t.like(k.call('a..b'), { rc: -errno.EINVAL });
  t.like(k.call(5 as unknown as string), { rc: -errno.EINVAL });
});

test('call: a function redefined between calls is the one called', (t) => {
  k.exec('function version() return 1 end');
  t.deepEqual(k.call('version').values, [1]);
  k.exec('function version() return 2 end');
  t.deepEqual(k.call('version').values, [2]);
});

test('call: works in isolate mode, where every call has a fresh state', (t) => {
  const iso = Kernel.boot({ isolate: true });
  t.deepEqual(iso.call('tostring', [12]), { rc: 1, values: ['12'] });
  t.deepEqual(iso.call('select', ['#', 1, 2]), { rc: 1, values: [2] });
  iso.exec('function f() end');
  t.like(iso.call('f'), { rc: -errno.ENOENT }, 'globals of an earlier call are gone');
  iso.shutdown();
});

test('load: compile once, call many times, release', (t) => {
  const loaded = k.load('local a, b = ... return a * b', { name: 'mul' });
  t.is(loaded.rc, 0);
  const fn = loaded.fn!;
  t.deepEqual(fn.call([6, 7]), { rc: 1, values: [42] });
  t.deepEqual(fn.call([2, 3]), { rc: 1, values: [6] });
  t.is(k.lastStats!.allocations, 0, 'nothing compiled or looked up');
  const failed = fn.call([{}, 1]);
  t.is(failed.rc, -errno.ECANCELED);
  t.regex(failed.error!, /^mul:1: attempt to perform arithmetic on a table value/);
  t.is(fn.release(), 0);
  t.is(fn.release(), 0, 'idempotent');
  t.like(fn.call([1, 2]), { rc: -errno.ENOENT });
});

test('load: a syntax error is -ENOEXEC and no handle', (t) => {
  t.deepEqual(Object.keys(k.load('return +')).sort(), ['error', 'rc']);
  t.like(k.load('return +'), { rc: -errno.ENOEXEC });
});

test('load: in isolate mode the handle compiles its source in each fresh state', (t) => {
  const iso = Kernel.boot({ isolate: true });
  const { fn } = iso.load('counter = (counter or 0) + 1 return counter, ...');
  t.deepEqual(fn!.call(['a']), { rc: 2, values: [1, 'a'] });
  t.deepEqual(fn!.call(['b']), { rc: 2, values: [1, 'b'] });
  t.is(fn!.release(), 0);
  t.deepEqual(iso.shutdown(), { leaks: [] });
});

test('load: handles not released by shutdown are in the shutdown report', (t) => {
  const sk = Kernel.boot();
  const kept = sk.load('return "kept"', { name: 'kept' });
  const freed = sk.load('return "freed"');
  t.is(freed.fn!.release(), 0);
  const report = sk.shutdown();
  t.deepEqual(report.leaks, []);
  t.deepEqual(report.handles, [{ name: 'kept', source: 'return "kept"' }]);
  t.like(kept.fn!.call(), { rc: -errno.ESHUTDOWN });
});

test('after shutdown every entry returns -ESHUTDOWN', (t) => {
  const sk = Kernel.boot();
  sk.shutdown();
  t.like(sk.eval('return 1'), { rc: -errno.ESHUTDOWN });
  t.like(sk.call('print'), { rc: -errno.ESHUTDOWN });
  t.like(sk.load('return 1'), { rc: -errno.ESHUTDOWN });
  t.is(sk.expose('f', () => 1), -errno.ESHUTDOWN);
  t.is(sk.unexpose('f'), -errno.ESHUTDOWN);
});

test('depth: limits.valueDepth levels cross, one more is -E2BIG, both ways', (t) => {
  const dk = Kernel.boot({ limits: { valueDepth: 5 } });
  const nest = (n: number): unknown => (n === 0 ? 'leaf' : [nest(n - 1)]);
  t.like(dk.eval('return ...', [nest(5)]), { rc: 1 });
  t.like(dk.eval('return ...', [nest(6)]), { rc: -errno.E2BIG, error: 'args[0][0][0][0][0][0]: nested deeper than limits.valueDepth (5 levels)' });
  t.like(dk.eval('return {{{{{1}}}}}'), { rc: 1 });
  t.like(dk.eval('return {{{{{{1}}}}}}'), { rc: -errno.E2BIG, error: 'values[0][1][1][1][1][1]: nested deeper than limits.valueDepth (5 levels)' });
  dk.shutdown();
});

test('entries: past limits.valueEntries is -E2BIG, both ways', (t) => {
  const ek = Kernel.boot({ limits: { valueEntries: 100 } });
  t.like(ek.eval('return ...', [Array.from({ length: 100 }, () => 1)]), { rc: 1 });
  t.like(ek.eval('return ...', [Array.from({ length: 60 }, () => 1), Array.from({ length: 41 }, () => 1)]), { rc: -errno.E2BIG });
  t.like(ek.eval('return ...', [{ a: Array.from({ length: 101 }, () => 1) }]), { rc: -errno.E2BIG });
  t.like(ek.eval('local t = {} for i = 1, 100 do t[i] = i end return t'), { rc: 1 });
  t.deepEqual(ek.eval('local t = {} for i = 1, 101 do t["k" .. i] = i end return t'), { rc: -errno.E2BIG, error: 'values[0]: more than limits.valueEntries (100) table entries' });
  ek.shutdown();
});

test('limits.valueDepth and valueEntries are checked at boot', (t) => {
  t.throws(() => Kernel.boot({ limits: { valueDepth: 0 } }), { message: /limits.valueDepth/ });
  t.throws(() => Kernel.boot({ limits: { valueDepth: 1001 } }), { message: /limits.valueDepth/ });
  t.throws(() => Kernel.boot({ limits: { valueEntries: 1.5 } }), { message: /limits.valueEntries/ });
});

test('sysLua is unchanged beside the value bridge', (t) => {
  const out = new Uint8Array(16);
  t.is(k.sysLua('return 6 * 7', 12, out, 16), 2);
  t.is(new TextDecoder().decode(out.subarray(0, 2)), '42');
  t.is(k.sysLua('return {}', 9, out, 16), -errno.EINVAL);
});
