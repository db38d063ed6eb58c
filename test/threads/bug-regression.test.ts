// lunatik-ng's README warns that `buf = { 123 }; buf = foo(buf)` "may or may not cause the
// kernel to BUG()" on the asynchronous path. Here the pattern is hammered from many callers
// at once, synchronous and asynchronous, on an in-thread kernel (and its fire-and-forget
// queue), on kernel threads and on a pool; every caller's script returns a value unique to
// it, so a result reaching the wrong caller is caught, and every result is checked.
import test from 'ava';
import { Kernel, KernelPool, KernelThread } from '../../src/index.js';
import { SMALL } from './helpers.js';

/** The README's pattern, with foo defined; returns the caller's tag and what the script saw. */
const pattern = (tag: string): string => `
function foo(t) t[#t + 1] = #t; return t end
buf = { 123 }
buf = foo(buf)
assert(#buf == 2 and buf[1] == 123 and buf[2] == 1, "buf is wrong")
local mine = { 123 }
mine = foo(mine)
mine = foo(mine)
assert(#mine == 3 and mine[3] == 2, "mine is wrong")
return "${tag}:" .. #buf .. ":" .. type(buf) .. ":" .. #mine`;

const expected = (tag: string): string => `${tag}:2:table:3`;

/** Fire-and-forget version: records its tag, so a later synchronous call can check that every one ran once, in order. */
const recorded = (tag: string): string => `${pattern(tag).replace(/return [^\n]*$/, '')}
done = (done or "") .. "${tag},"`;

const ROUNDS = 60;

test('the README pattern from many concurrent callers, synchronous and asynchronous, always gives each caller its own right answer', async (t) => {
  const kernel = Kernel.boot(SMALL);
  const threads = [KernelThread.spawn(SMALL), KernelThread.spawn(SMALL)];
  const pool = KernelPool.create({ ...SMALL, threads: 2 });
  const pending: Array<Promise<{ tag: string; value: string | undefined }>> = [];
  const forgotten: string[][] = [[], [], []]; // kernel, thread 0, thread 1
  const failures: string[] = [];
  const check = (tag: string, value: string | undefined): void => {
    if (value !== expected(tag)) failures.push(`${tag} got ${JSON.stringify(value)}`);
  };
  const out = new Uint8Array(256);
  try {
    for (let i = 0; i < ROUNDS; i++) {
      // Asynchronous callers first, so synchronous ones run while they are queued or running.
      threads.forEach((thread, n) => {
        const tag = `t${n}-submit-${i}`;
        pending.push(thread.submit(pattern(tag)).then((r) => ({ tag, value: r.value })));
        const fire = `t${n}-fire-${i}`;
        const code = recorded(fire);
        if (thread.sysLua(code, Buffer.byteLength(code), null, 0) !== 0) failures.push(`${fire} not queued`);
        forgotten[n + 1]!.push(fire);
      });
      for (let p = 0; p < 2; p++) {
        const tag = `pool-${p}-${i}`;
        pending.push(pool.exec(pattern(tag)).then((r) => ({ tag, value: r.value })));
      }
      const fire = `k-fire-${i}`;
      const code = recorded(fire);
      if (kernel.sysLua(code, Buffer.byteLength(code), null, 0) !== 0) failures.push(`${fire} not queued`);
      forgotten[0]!.push(fire);
      // Synchronous callers: the in-thread kernel and both threads, through sysLua and exec.
      for (const [n, target] of [kernel, ...threads].entries()) {
        const tag = `sync-${n}-${i}`;
        const code = pattern(tag);
        const rc = target.sysLua(code, Buffer.byteLength(code), out, out.length);
        check(tag, rc >= 0 ? Buffer.from(out.subarray(0, rc)).toString() : `rc ${rc}`);
        const execTag = `exec-${n}-${i}`;
        check(execTag, target.exec(pattern(execTag)).value);
      }
      if (i % 10 === 0) await new Promise((r) => setImmediate(r));
    }
    for (const { tag, value } of await Promise.all(pending)) check(tag, value);
    // Every fire-and-forget script ran exactly once, in submission order.
    await new Promise((r) => setImmediate(r));
    t.is(kernel.exec('return done').value, forgotten[0]!.map((tag) => `${tag},`).join(''));
    for (const [n, thread] of threads.entries()) {
      await thread.submit('return 1'); // after every queued item
      t.is(thread.exec('return done').value, forgotten[n + 1]!.map((tag) => `${tag},`).join(''));
    }
    t.deepEqual(failures, []);
    t.is(pending.length, ROUNDS * 4);
  } finally {
    kernel.shutdown();
    await Promise.all(threads.map((thread) => thread.close()));
    await pool.close();
  }
});
