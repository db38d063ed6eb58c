// thread.eval/call (synchronous, under the deadline) and pool.eval/call (promises): values
// cross threads by structured clone, then the same mapping as on the host.
import test from 'ava';
import { KernelPool, KernelThread, errno } from '../../src/index.js';

const SMALL = { memory: { limit: 8 * 1024 * 1024 } } as const;

test.serial('thread.eval and thread.call: arguments in, structured values out, the mapping\'s null prototypes kept', (t) => {
  const thread = KernelThread.spawn({ ...SMALL, deadlineMs: 2000 });
  try {
    const r = thread.eval('local n, t, b = ... return n * 2, { doubled = t[1] * 2, __proto__ = "own" }, #b, 2^63', [21, [5], new Uint8Array(3)]);
    t.is(r.rc, 4);
    const [n, record, length, big] = r.values!;
    t.is(n, 42);
    t.is(Object.getPrototypeOf(record), null);
    t.deepEqual(Object.entries(record as object).sort(), [['__proto__', 'own'], ['doubled', 10]]);
    t.true(Object.hasOwn(record as object, '__proto__'));
    t.is(length, 3);
    t.is(big, 2 ** 63);
    t.true(thread.lastStats !== null);

    thread.exec('function greet(name) return "hello " .. name end');
    t.deepEqual(thread.call('greet', ['lua']), { rc: 1, values: ['hello lua'] });
    t.deepEqual(thread.call('greet', ['\xff'], { strings: 'bytes' }), { rc: 1, values: [new TextEncoder().encode('hello \xff')] });
    t.like(thread.call('nothing'), { rc: -errno.ENOENT });
    t.like(thread.eval('return {f = print}'), { rc: -errno.EINVAL, error: 'values[0].f: function cannot cross' });
  } finally {
    void thread.close();
  }
});

test.serial('thread.eval: arguments structured clone refuses are -EINVAL before anything runs; the deadline holds', (t) => {
  const thread = KernelThread.spawn({ ...SMALL, deadlineMs: 300 });
  try {
    const r = thread.eval('return ...', [{ cb: () => 1 }]);
    t.is(r.rc, -errno.EINVAL);
    t.regex(r.error!, /^args: cannot cross to the kernel thread/);
    t.like(thread.eval('local n = ... while true do n = n + 1 end', [1]), { rc: -errno.ETIME });
    t.deepEqual(thread.eval('return ...', ['after the kill']), { rc: 1, values: ['after the kill'] });
  } finally {
    void thread.close();
  }
});

test.serial('pool.eval and pool.call resolve with the same results', async (t) => {
  const pool = KernelPool.create({ ...SMALL, threads: 1 });
  try {
    const r = await pool.eval('local t = ... return { sum = t[1] + t[2] }, ...', [[2, 3]]);
    t.is(r.rc, 2);
    t.is(Object.getPrototypeOf(r.values![0]), null);
    t.deepEqual({ ...(r.values![0] as object) }, { sum: 5 });
    t.deepEqual(r.values![1], [2, 3]);
    t.deepEqual(await pool.call('tostring', [1.5]), { rc: 1, values: ['1.5'] });
    t.like(await pool.call('missing'), { rc: -errno.ENOENT });
    const refused = await pool.eval('return ...', [Symbol('s')]);
    t.is(refused.rc, -errno.EINVAL);
    const controller = new AbortController();
    controller.abort();
    t.like(await pool.eval('return 1', [], { signal: controller.signal }), { rc: -errno.EINTR });
    t.deepEqual(await pool.eval('return ...', [null, true]), { rc: 2, values: [null, true] });
  } finally {
    await pool.close();
  }
});
