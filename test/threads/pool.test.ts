// KernelPool: parallel results are correct and reach their own callers; deadlines and
// cancellation kill only the worker concerned; close ends queued work with -ESHUTDOWN.
import { availableParallelism } from 'node:os';
import test from 'ava';
import { KernelPool, errno } from '../../src/index.js';
import { SMALL, waitFor } from './helpers.js';

const FIB = 'local function fib(n) if n < 2 then return n end return fib(n - 1) + fib(n - 2) end';

test('parallel results are correct and each reaches its caller', async (t) => {
  const pool = KernelPool.create({ ...SMALL, threads: 2 });
  try {
    const n = 60;
    const results = await Promise.all(Array.from({ length: n }, (_, i) => pool.exec(`${FIB} return "${i}:" .. fib(${10 + (i % 8)})`)));
    const fib = (k: number): number => (k < 2 ? k : fib(k - 1) + fib(k - 2));
    results.forEach((r, i) => t.deepEqual(r, { rc: `${i}:${fib(10 + (i % 8))}`.length, value: `${i}:${fib(10 + (i % 8))}` }));
    t.deepEqual(await pool.exec('error("bad")', { name: 'task.lua' }), { rc: -errno.ECANCELED, error: 'task.lua:1: bad' });
    t.is((await pool.exec('return {}')).rc, -errno.EINVAL);
    t.is((await pool.exec(42 as unknown as string)).rc, -errno.EFAULT);
    t.is(pool.info().threads, 2);
  } finally {
    await pool.close();
  }
});

test('the default size is one worker per core', async (t) => {
  const pool = KernelPool.create(SMALL);
  try {
    t.deepEqual(await pool.exec('return 1'), { rc: 1, value: '1' });
    t.is(pool.info().threads, availableParallelism());
  } finally {
    await pool.close();
  }
  t.throws(() => KernelPool.create({ threads: 0 }), { message: /threads/ });
  t.throws(() => KernelPool.create({ deadlineMs: -1 }), { message: /deadlineMs/ });
});

test('a deadline kills only its worker: the other worker\'s task completes, the pool stays whole', async (t) => {
  const pool = KernelPool.create({ ...SMALL, threads: 2, limits: { instructions: Infinity }, deadlineMs: 1000 });
  try {
    t.deepEqual(await pool.exec('return 0'), { rc: 1, value: '0' });
    const stuck = pool.exec('return string.find(("a"):rep(1e4), ".-.-.-.-b$")');
    const others = Array.from({ length: 10 }, (_, i) => pool.exec(`${FIB} return fib(15) + ${i}`));
    t.is((await stuck).rc, -errno.ETIME);
    for (const [i, r] of (await Promise.all(others)).entries()) t.is(r.value, String(610 + i));
    t.is(pool.info().kills, 1);
    await waitFor(() => pool.info().threads === 2, 20_000, 'the replacement');
  } finally {
    await pool.close();
  }
});

test('cancellation: queued tasks never run, a running one loses its worker', async (t) => {
  const pool = KernelPool.create({ ...SMALL, threads: 1, limits: { instructions: Infinity }, deadlineMs: 60_000 });
  try {
    t.deepEqual(await pool.exec('return 0'), { rc: 1, value: '0' });
    const running = new AbortController();
    const queued = new AbortController();
    const loop = pool.exec('while true do end', { signal: running.signal });
    const never = pool.exec('never = true return 1', { signal: queued.signal });
    const later = pool.exec('return tostring(never)');
    queued.abort();
    t.deepEqual(await never, { rc: -errno.EINTR, error: 'cancelled before it ran' });
    // The loop is the only task the single worker can be running now.
    await new Promise((r) => setTimeout(r, 20));
    running.abort();
    const r = await loop;
    t.is(r.rc, -errno.EINTR);
    t.deepEqual(await later, { rc: 3, value: 'nil' });
    const aborted = new AbortController();
    aborted.abort();
    t.is((await pool.exec('return 1', { signal: aborted.signal })).rc, -errno.EINTR);
  } finally {
    await pool.close();
  }
});

test('close: queued tasks get -ESHUTDOWN, running ones finish, later calls -ESHUTDOWN', async (t) => {
  const pool = KernelPool.create({ ...SMALL, threads: 1 });
  t.deepEqual(await pool.exec('return 0'), { rc: 1, value: '0' });
  const running = pool.exec(`${FIB} return fib(22)`);
  const queued = [pool.exec('return 1'), pool.exec('return 2')];
  await new Promise((r) => setTimeout(r, 10));
  const closed = pool.close();
  t.is(pool.close(), closed);
  t.deepEqual(await running, { rc: 5, value: '17711' });
  for (const r of await Promise.all(queued)) t.true(r.rc === -errno.ESHUTDOWN || r.rc === 1, String(r.rc));
  await closed;
  t.is((await pool.exec('return 1')).rc, -errno.ESHUTDOWN);
  t.true(pool.isClosed);
});

test('pool isolation: by default a global set by one task is never seen by another, whichever worker runs it', async (t) => {
  const pool = KernelPool.create({ ...SMALL, threads: 2 });
  try {
    t.deepEqual(await pool.exec('secret = "tenant A data" return secret'), { rc: 13, value: 'tenant A data' });
    const later = await Promise.all(Array.from({ length: 20 }, () => pool.exec('return tostring(secret)')));
    for (const r of later) t.deepEqual(r, { rc: 3, value: 'nil' });
    t.is((await pool.exec('return 1', { key: 'a' })).rc, -errno.EINVAL, 'keys need persistent workers');
  } finally {
    await pool.close();
  }
  t.throws(() => KernelPool.create({ isolate: false }), { message: /persistent/ });
  t.throws(() => KernelPool.create({ isolate: true, persistent: true }), { message: /persistent/ });
});

test('persistent pool with keys: all of one key\'s tasks run on one worker and see its globals', async (t) => {
  const pool = KernelPool.create({ ...SMALL, threads: 2, persistent: true });
  try {
    const keys = ['tenant-a', 'tenant-b', 'tenant-c', 42];
    // Interleaved, concurrent: each key counts its own tasks in a global named after it.
    const runs = await Promise.all(Array.from({ length: 40 }, (_, i) => {
      const key = keys[i % keys.length]!;
      const g = `count_${String(key).replace(/-/g, '_')}`;
      return pool.exec(`${g} = (${g} or 0) + 1 return ${g}`, { key });
    }));
    const last = new Map<string | number, number>();
    runs.forEach((r, i) => last.set(keys[i % keys.length]!, Number(r.value)));
    for (const key of keys) t.is(last.get(key), 10, `key ${String(key)} saw all of its 10 tasks`);
    t.is(pool.info().threads, 2);
    // Unkeyed tasks of a persistent pool keep globals in whichever worker ran them: not defined which.
    t.is((await pool.exec('return 1')).rc, 1);
  } finally {
    await pool.close();
  }
  t.is((await pool.exec('return 1', { key: 'a' })).rc, -errno.ESHUTDOWN);
});

test('a persistent pool runs eval and call on the key\'s worker, with its globals', async (t) => {
  const pool = KernelPool.create({ threads: 2, persistent: true });
  try {
    t.is((await pool.exec('function greet(who) return "hi " .. who end', { key: 'tenant-a' })).rc, 0);
    for (let i = 0; i < 4; i++) t.deepEqual((await pool.call('greet', [`n${i}`], { key: 'tenant-a' })).values, [`hi n${i}`]);
    t.deepEqual((await pool.eval('return greet(...), #{...}', ['x', 'y'], { key: 'tenant-a' })).values, ['hi x', 2]);
    const record = await pool.eval('return { device = ..., tags = { "a", "b" } }', [3], { key: 'tenant-a' });
    t.deepEqual(record.values, [Object.assign(Object.create(null), { device: 3, tags: ['a', 'b'] })]);
    t.is((await pool.call('nope', [], { key: 'tenant-a' })).rc, -errno.ENOENT);
  } finally {
    await pool.close();
  }
});
