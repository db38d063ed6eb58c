// The value bridge's entries at any depth of the host's JS stack: an errno (-ENOMEM when the
// stack is too full to make the call), never an exception, and the kernel serves on.
import test from 'ava';
import { Kernel, errno } from '../../src/index.js';
import { atEveryDepth } from '../sandbox/helpers.js';

test('eval, call, fn.call, expose and a host function called from Lua return an errno at any JS stack depth', (t) => {
  // A host stack overflow under a Wasm frame discards the state (as a panic does): each case
  // uses what a new state has again (a library function, the handle's source, exposed functions).
  const k = Kernel.boot();
  const { fn } = k.load('return (...) + 1');
  k.expose('host', (x: number) => x + 1);
  const ok = (rc: number, expected: number) => rc === expected || rc === -errno.ENOMEM;
  const cases: [string, () => number, number][] = [
    ['eval', () => k.eval('return ...', [1, 'two', { three: [3] }]).rc, 3],
    ['call', () => k.call('tostring', [21]).rc, 1],
    ['fn.call', () => fn!.call([1]).rc, 1],
    ['host function', () => k.eval('return host(1)').rc, 1],
    ['expose', () => k.expose('again', () => 1), 0],
  ];
  for (const [name, entry, expected] of cases) {
    const { values, escaped } = atEveryDepth(entry);
    t.deepEqual(escaped, [], name);
    t.true(values.every((rc) => ok(rc, expected)), `${name}: ${[...new Set(values)].join(',')}`);
    t.true(values.includes(expected), `${name} worked at some depth`);
  }
  t.deepEqual(k.call('tostring', [4]), { rc: 1, values: ['4'] });
  t.deepEqual(k.eval('return host(1), again()'), { rc: 2, values: [2, 1] });
  t.deepEqual(fn!.call([1]), { rc: 1, values: [2] });
  t.is(fn!.release(), 0);
  t.is(k.shutdown().rc, 0);
});
