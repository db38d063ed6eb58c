// kernel.expose / unexpose: JS functions callable from Lua through the same mapping;
// whatever they throw is a Lua error pcall catches; calling back into the kernel is -EBUSY.
import test from 'ava';
import { Kernel, errno } from '../../src/index.js';

test('an exposed function gets its arguments and returns its value through the mapping', (t) => {
  const k = Kernel.boot();
  const seen: unknown[][] = [];
  t.is(k.expose('host', (...args: unknown[]) => {
    seen.push(args);
    return { sum: (args[0] as number) + (args[1] as number), list: [1, 'two'], nothing: undefined };
  }), 0);
  const r = k.eval('local t = host(2, 3, "s", {1, 2}, {k = true}, nil) return t.sum, t.list[2], #t.list, t.nothing');
  t.deepEqual(r, { rc: 4, values: [5, 'two', 2, null] });
  t.deepEqual(seen, [[2, 3, 's', [1, 2], Object.assign(Object.create(null), { k: true }), null]]);
  t.deepEqual(k.eval('return host ~= nil, type(host)'), { rc: 2, values: [true, 'function'] });
  k.shutdown();
});

test('undefined and null return nil; a Uint8Array returns a buffer', (t) => {
  const k = Kernel.boot();
  k.expose('none', () => undefined);
  k.expose('bytes', () => new Uint8Array([4, 5]));
  t.deepEqual(k.eval('return none() == nil, select("#", none())'), { rc: 2, values: [true, 1] });
  t.deepEqual(k.eval('local b = bytes() return #b, b[2], tostring(b)'), { rc: 3, values: [2, 5, 'buffer: 2 bytes'] });
  k.shutdown();
});

test('what a host function throws is a Lua error that pcall catches, whatever it is', (t) => {
  const k = Kernel.boot();
  const evil = { toString() { throw new Error('no'); } };
  const trap = new Proxy({}, { getPrototypeOf() { throw new Error('trap'); } });
  const throwers: [unknown, string][] = [
    [new Error('plain error'), 'plain error'],
    [new TypeError('type error'), 'type error'],
    ['a string', 'a string'],
    [undefined, "'f' threw undefined"],
    [null, "'f' threw null"],
    [42, "'f' threw 42"],
    [Symbol('sym'), "'f' threw Symbol(sym)"],
    [evil, "'f' threw an object that cannot be shown"],
    [trap, "'f' threw an object that cannot be shown"],
    [Infinity, "'f' threw Infinity"],
  ];
  for (const [value, message] of throwers) {
    k.expose('f', () => {
      throw value;
    });
    t.deepEqual(k.eval('return pcall(f)'), { rc: 2, values: [false, message] }, message);
    // Raised like luaL_error: where the calling Lua code is, when it is Lua code.
    t.deepEqual(k.eval('f()'), { rc: -errno.ECANCELED, error: `sysLua:1: ${message}` });
  }
  t.deepEqual(k.eval('return 1 + 1'), { rc: 1, values: [2] });
  k.shutdown();
});

test('arguments or a return value that cannot cross raise a Lua error naming the path', (t) => {
  const k = Kernel.boot();
  k.expose('id', (x: unknown) => x);
  k.expose('fnret', () => ({ cb: () => 1 }));
  k.expose('promise', async () => 1);
  t.deepEqual(k.eval('return pcall(id, {f = print})'), { rc: 2, values: [false, "bad argument to 'id' (args[0].f: function cannot cross)"] });
  t.deepEqual(k.eval('return pcall(fnret)'), { rc: 2, values: [false, "'fnret' returned a value that cannot cross (result[0].cb: function cannot cross)"] });
  t.deepEqual(k.eval('return pcall(promise)'), { rc: 2, values: [false, "'promise' returned a value that cannot cross (result[0]: a Promise cannot cross)"] });
  k.shutdown();
});

test('a host function that calls back into the kernel gets -EBUSY, and the state is intact', (t) => {
  const k = Kernel.boot();
  const { fn } = k.load('return 1');
  const answers: unknown[] = [];
  k.expose('reenter', () => {
    answers.push(k.eval('return 1').rc, k.call('print').rc, fn!.call().rc, fn!.release(), k.expose('x', () => 1), k.unexpose('reenter'));
    const out = new Uint8Array(8);
    answers.push(k.sysLua('return 1', 8, out, 8));
    return 'done';
  });
  t.deepEqual(k.eval('local r = reenter() return r, 2'), { rc: 2, values: ['done', 2] });
  const EBUSY = -errno.EBUSY;
  t.deepEqual(answers, [EBUSY, EBUSY, EBUSY, EBUSY, EBUSY, EBUSY, EBUSY]);
  t.deepEqual(fn!.call(), { rc: 1, values: [1] }, 'the handle was not released');
  t.deepEqual(k.eval('return reenter ~= nil'), { rc: 1, values: [true] }, 'the function was not unexposed');
  k.shutdown();
});

test('unexpose removes the global; a closure a script kept raises instead of calling', (t) => {
  const k = Kernel.boot();
  k.expose('temp', () => 'here');
  k.exec('kept = temp');
  t.is(k.unexpose('temp'), 0);
  t.is(k.unexpose('temp'), -errno.ENOENT);
  t.deepEqual(k.eval('return temp'), { rc: 1, values: [null] });
  const r = k.eval('return pcall(kept)');
  t.deepEqual(r, { rc: 2, values: [false, 'attempt to call a host function that was unexposed'] });
  k.shutdown();
});

test('exposing again replaces; bad names and non-functions are -EINVAL', (t) => {
  const k = Kernel.boot();
  k.expose('v', () => 1);
  k.expose('v', () => 2);
  t.deepEqual(k.eval('return v()'), { rc: 1, values: [2] });
  t.is(k.expose('1bad', () => 1), -errno.EINVAL);
  t.is(k.expose('a.b', () => 1), -errno.EINVAL);
  t.is(k.expose('ok', 5 as unknown as () => void), -errno.EINVAL);
  k.shutdown();
});

test('exposed functions exist in isolate mode\'s fresh states, and expose/unexpose apply to the next one', (t) => {
  const k = Kernel.boot({ isolate: true });
  k.expose('twice', (n: number) => n * 2);
  t.deepEqual(k.eval('return twice(21)'), { rc: 1, values: [42] });
  t.deepEqual(k.eval('twice = nil return 1'), { rc: 1, values: [1] });
  t.deepEqual(k.eval('return twice(4)'), { rc: 1, values: [8] }, 'a fresh state has it again');
  t.is(k.unexpose('twice'), 0);
  t.deepEqual(k.eval('return twice'), { rc: 1, values: [null] });
  t.deepEqual(k.shutdown(), { leaks: [] });
});

test('an exposed global is set raw: a script\'s __newindex on _G does not run', (t) => {
  const k = Kernel.boot();
  k.exec('setmetatable(_G, { __newindex = function(t, k, v) rawset(t, "hijacked", k) end })');
  t.is(k.expose('late', () => 'late'), 0);
  t.deepEqual(k.eval('return late(), rawget(_G, "hijacked")'), { rc: 2, values: ['late', null] });
  k.shutdown();
});
