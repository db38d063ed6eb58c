// Asynchronous work on a kernel thread: fire-and-forget sysLua and submit run in
// submission order; a synchronous call goes ahead of queued work (never ahead of the item
// already running); cancellation gives -EINTR, without running pending work.
import test from 'ava';
import { Kernel, KernelThread, errno } from '../../src/index.js';
import { SMALL, waitFor } from './helpers.js';

test('fire-and-forget and submit run in submission order; promises settle in that order', async (t) => {
  const thread = KernelThread.spawn(SMALL);
  try {
    const settled: number[] = [];
    const promises = [];
    for (let i = 0; i < 50; i++) {
      const code = `log = (log or "") .. "${i},"`;
      if (i % 3 === 0) t.is(thread.sysLua(code, Buffer.byteLength(code), null, 0), 0);
      else promises.push(thread.submit(`${code} return ${i}`).then((r) => (settled.push(i), r)));
    }
    const last = await thread.submit('return log');
    t.deepEqual(last.value, Array.from({ length: 50 }, (_, i) => `${i},`).join(''));
    const results = await Promise.all(promises);
    t.deepEqual(settled, [...settled].sort((a, b) => a - b));
    for (const [j, r] of results.entries()) t.is(r.value, String(settled[j]));
  } finally {
    void thread.close();
  }
});

test('a synchronous call goes ahead of queued work, after the running item', async (t) => {
  const thread = KernelThread.spawn({ ...SMALL, deadlineMs: 60_000 });
  try {
    t.deepEqual(thread.exec('order = "" return 1'), { rc: 1, value: '1' });
    const first = thread.submit('for i = 1, 1e7 do end order = order .. "A" return order');
    const second = thread.submit('order = order .. "B" return order');
    const sync = thread.exec('order = order .. "S" return order');
    // Either the first item had started (and the call waited for it) or it had not.
    t.true(sync.value === 'S' || sync.value === 'AS', sync.value);
    t.is((await second).value, sync.value === 'S' ? 'SAB' : 'ASB');
    t.is((await first).value, sync.value === 'S' ? 'SA' : 'A');
  } finally {
    void thread.close();
  }
});

// Serial: other tests' synchronous calls block this process's event loop, and this one must see the loop running before its deadline.
test.serial('a synchronous call that never gets the thread before its deadline returns -ETIME without running or killing', async (t) => {
  const thread = KernelThread.spawn({ ...SMALL, limits: { instructions: Infinity }, deadlineMs: 1000 });
  try {
    const looping = thread.submit('while true do end');
    await waitFor(() => thread.info().running === 'work', 20_000, 'the loop to start');
    const r = thread.exec('ran = true return 1');
    t.is(r.rc, -errno.ETIME);
    t.regex(r.error ?? '', /before the call could start .* it did not run/);
    t.is((await looping).rc, -errno.ETIME);
    t.deepEqual(thread.exec('return tostring(ran)'), { rc: 3, value: 'nil' });
  } finally {
    void thread.close();
  }
});

test('cancelling pending work: -EINTR, and it never runs', async (t) => {
  const thread = KernelThread.spawn({ ...SMALL, limits: { instructions: Infinity }, deadlineMs: 60_000 });
  try {
    const blocker = new AbortController();
    const controllers = Array.from({ length: 10 }, () => new AbortController());
    const running = thread.submit('while true do end', { signal: blocker.signal });
    const pending = controllers.map((c, i) => thread.submit(`ran${i} = true return ${i}`, { signal: c.signal }));
    const kept = thread.submit('return "kept"');
    await waitFor(() => thread.info().running === 'work', 20_000, 'the loop to start');
    controllers.forEach((c, i) => i % 2 === 0 && c.abort());
    blocker.abort();
    t.deepEqual(await running, { rc: -errno.EINTR, error: 'cancelled while running; the kernel thread was restarted' });
    const results = await Promise.all(pending);
    results.forEach((r, i) => {
      if (i % 2 === 0) t.deepEqual(r, { rc: -errno.EINTR, error: 'cancelled before it ran' });
      else t.deepEqual(r, { rc: 1, value: String(i) });
    });
    t.deepEqual(await kept, { rc: 4, value: 'kept' });
    const ran = thread.exec('local s = "" for i = 0, 9 do s = s .. (rawget(_G, "ran" .. i) and i or "-") end return s');
    t.deepEqual(ran, { rc: 10, value: '-1-3-5-7-9' });
    const already = new AbortController();
    already.abort();
    t.deepEqual(await thread.submit('boom = true', { signal: already.signal }), { rc: -errno.EINTR, error: 'cancelled before it ran' });
    t.deepEqual(thread.exec('return tostring(boom)'), { rc: 3, value: 'nil' });
    // Cancelling finished work changes nothing.
    const done = new AbortController();
    const finished = await thread.submit('return "fine"', { signal: done.signal });
    done.abort();
    t.deepEqual(finished, { rc: 4, value: 'fine' });
  } finally {
    void thread.close();
  }
});

test('cancelling running work kills the worker: -EINTR, the queue behind it still runs', async (t) => {
  const thread = KernelThread.spawn({ ...SMALL, deadlineMs: 60_000 });
  try {
    const controller = new AbortController();
    const running = thread.submit('while true do end', { signal: controller.signal });
    const after = thread.submit('return "after"');
    await waitFor(() => thread.info().running === 'work', 20_000, 'the loop to start');
    controller.abort();
    t.is((await running).rc, -errno.EINTR);
    t.deepEqual(await after, { rc: 5, value: 'after' });
    t.is(thread.info().kills, 1);
  } finally {
    void thread.close();
  }
});

test('submit checks its arguments like exec', async (t) => {
  const thread = KernelThread.spawn({ ...SMALL, limits: { codeSize: 8 } });
  try {
    t.is((await thread.submit(42 as unknown as string)).rc, -errno.EFAULT);
    t.is((await thread.submit('return 123456789')).rc, -errno.E2BIG);
    t.is(thread.sysLua('return 123456789', 16, null, 0), -errno.E2BIG);
    t.deepEqual(await thread.submit('return 1'), { rc: 1, value: '1' });
  } finally {
    void thread.close();
  }
});

test('the in-thread kernel: fire-and-forget work runs later, in order, after synchronous calls', async (t) => {
  const kernel = Kernel.boot(SMALL);
  for (let i = 0; i < 5; i++) {
    const code = `q = (q or "") .. "${i}"`;
    t.is(kernel.sysLua(code, code.length, null, 0), 0);
  }
  t.deepEqual(kernel.exec('return tostring(q)'), { rc: 3, value: 'nil' });
  await new Promise((r) => setImmediate(r));
  t.deepEqual(kernel.exec('return q'), { rc: 5, value: '01234' });
  kernel.shutdown();
});
