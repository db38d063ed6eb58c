// A kernel thread keeps Kernel.sysLua's contract: the same return values and the same
// bytes in the caller's buffer as an in-thread kernel booted with the same options, with
// code and results crossing through shared memory (and through a message when too big).
import test from 'ava';
import { Kernel, KernelThread, errno } from '../../src/index.js';
import { SMALL, decoder, execSettled, waitFor } from './helpers.js';

const ANSWER_URL = new URL('./fixtures/answer-module.js', import.meta.url).href;
const NOT_A_MODULE_URL = new URL('./fixtures/not-a-module.js', import.meta.url).href;

/** Code and result sizes, each run through both kernels. */
const CASES: Array<[code: string | Uint8Array, resultSz: number]> = [
  ['return type({ 123 })', 64],
  ['return ("x"):rep(100)', 10],
  ['return ("x"):rep(100)', 1],
  ['return ("x"):rep(100)', 0],
  ['return "a\\0b\\0c"', 16],
  ['return "a\\0b\\0c"', 3],
  ['error("boom\\0tail", 0)', 64],
  ['error("boom\\0tail", 0)', 6],
  ['error({})', 64],
  ['return {}', 64],
  ['return 1 +', 64],
  ['return 3.5, 7', 64],
  ['return nil', 8],
  ['return true', 8],
  ['return setmetatable({}, { __tostring = function() return "meta" end })', 8],
  // Longer than the shared result area (64 KiB): crosses as a message.
  ['return ("\\255\\0"):rep(50000)', 150_000],
  ['return ("\\255\\0"):rep(50000)', 70_000],
  ['return ("é"):rep(40000)', 100_000],
  // code as bytes, lunatik-ng style: the terminating NUL counted in codeSz.
  [new TextEncoder().encode('return "bytes"\0'), 32],
];

test('sysLua through a thread leaves the same rc and buffer bytes as an in-thread kernel', (t) => {
  const kernel = Kernel.boot(SMALL);
  const thread = KernelThread.spawn(SMALL);
  try {
    for (const [code, resultSz] of CASES) {
      const codeSz = typeof code === 'string' ? Buffer.byteLength(code) : code.length;
      const expected = new Uint8Array(resultSz + 4).fill(0xa5);
      const actual = new Uint8Array(resultSz + 4).fill(0xa5);
      const want = kernel.sysLua(code, codeSz, expected, resultSz);
      const got = thread.sysLua(code, codeSz, actual, resultSz);
      const label = typeof code === 'string' ? code.slice(0, 40) : 'bytes';
      t.is(got, want, `rc of ${label} / ${resultSz}`);
      t.true(Buffer.from(actual).equals(Buffer.from(expected)), `buffer of ${label} / ${resultSz}`);
    }
  } finally {
    kernel.shutdown();
    void thread.close();
  }
});

test('exec through a thread returns what Kernel.exec returns', (t) => {
  const kernel = Kernel.boot(SMALL);
  const thread = KernelThread.spawn(SMALL);
  try {
    for (const code of ['return 1 + 1', 'error("x")', 'return {}', 'return ("ü"):rep(30000)', 'return', 'x = ']) {
      t.deepEqual(thread.exec(code), kernel.exec(code), code.slice(0, 30));
    }
    t.deepEqual(thread.exec('error("named")', { name: 'rules.lua' }), kernel.exec('error("named")', { name: 'rules.lua' }));
    t.regex(thread.exec('error("named")', { name: 'rules.lua' }).error ?? '', /^rules\.lua:1: named/);
  } finally {
    kernel.shutdown();
    void thread.close();
  }
});

test('argument checks: EFAULT, EINVAL and E2BIG leave the buffer untouched', (t) => {
  const thread = KernelThread.spawn({ ...SMALL, limits: { codeSize: 16 } });
  const kernel = Kernel.boot({ ...SMALL, limits: { codeSize: 16 } });
  const buf = new Uint8Array(8).fill(0xa5);
  const calls: Array<[unknown, unknown, unknown, unknown]> = [
    [42, 1, buf, 8],
    ['return 1', 8, [1, 2, 3], 3],
    ['return 1', -1, buf, 8],
    ['return 1', 1.5, buf, 8],
    ['return 1', 8, buf, 9],
    ['return 1', 8, null, 4],
    ['return 1', 99, buf, 8],
    ['return "0123456789abcdef"', 25, buf, 8],
  ];
  try {
    for (const [code, codeSz, result, resultSz] of calls) {
      const args = [code, codeSz, result, resultSz] as Parameters<Kernel['sysLua']>;
      t.is(thread.sysLua(...args), kernel.sysLua(...args), JSON.stringify([codeSz, resultSz]));
    }
    t.is(thread.sysLua('return "0123456789abcdef"', 25, buf, 8), -errno.E2BIG);
    t.true(buf.every((b) => b === 0xa5));
    t.is(thread.exec(42 as unknown as string).rc, -errno.EFAULT);
  } finally {
    kernel.shutdown();
    void thread.close();
  }
});

test('code longer than the shared code area crosses as a message', (t) => {
  const thread = KernelThread.spawn({ ...SMALL, limits: { codeSize: 2 * 1024 * 1024 } });
  try {
    const big = `return #"${'a'.repeat(1_500_000)}"`;
    t.deepEqual(thread.exec(big), { rc: 7, value: '1500000' });
    const out = new Uint8Array(16);
    t.is(thread.sysLua(big, Buffer.byteLength(big), out, 16), 7);
    t.is(decoder.decode(out.subarray(0, 7)), '1500000');
  } finally {
    void thread.close();
  }
});

test('globals persist across calls in a thread; lastStats describes the last call', (t) => {
  const thread = KernelThread.spawn(SMALL);
  try {
    t.is(thread.lastStats, null);
    for (let i = 1; i <= 3; i++) t.deepEqual(thread.exec('n = (n or 0) + 1 return n'), { rc: 1, value: String(i) });
    thread.exec('local t = {} for i = 1, 1000 do t[i] = {} end');
    const stats = thread.lastStats!;
    t.true(stats.allocatedBytes > 1000 * 16);
    t.true(stats.peakBytes > 0);
    t.true(stats.wallTimeMs! >= 0);
    t.true(stats.instructions > 1000, "the exact fuel of the call");
  } finally {
    void thread.close();
  }
});

test('modules are named: builtins by name, others by file: URL', (t) => {
  const only = KernelThread.spawn({ ...SMALL, modules: ['printk'] });
  const custom = KernelThread.spawn({ ...SMALL, modules: ['inspect', ANSWER_URL] });
  try {
    t.deepEqual(only.exec('return type(gc_count) .. " " .. type(printk)'), { rc: 12, value: 'nil function' });
    t.deepEqual(custom.exec('return answer() .. " " .. type(gc_count) .. " " .. type(printk)'), { rc: 15, value: '42 function nil' });
  } finally {
    void only.close();
    void custom.close();
  }
  t.throws(() => KernelThread.spawn({ modules: ['nosuchmodule'] }), { instanceOf: RangeError });
  t.throws(() => KernelThread.spawn({ modules: ['http://example.com/m.js'] }), { instanceOf: RangeError });
  t.throws(() => KernelThread.spawn({ modules: [{} as unknown as string] }), { instanceOf: TypeError });
  t.throws(() => KernelThread.spawn({ ...SMALL, modules: [NOT_A_MODULE_URL] }), { message: /failed to boot: .*not a LunatikModule/ });
});

test('bad options throw at spawn, naming the option', (t) => {
  t.throws(() => KernelThread.spawn({ deadlineMs: 0 }), { message: /deadlineMs/ });
  t.throws(() => KernelThread.spawn({ resultBytes: 1.5 }), { message: /resultBytes/ });
  t.throws(() => KernelThread.spawn({ memory: { pages: -1 } }), { message: /memory\.pages/ });
  t.throws(() => KernelThread.spawn({ limits: { instructions: 0 } }), { message: /limits\.instructions/ });
});

test('close: -ESHUTDOWN afterwards, idempotent, with the leak report', async (t) => {
  const thread = KernelThread.spawn(SMALL);
  t.deepEqual(thread.exec('x = {} return 1'), { rc: 1, value: '1' });
  const first = thread.close();
  t.is(thread.close(), first);
  t.deepEqual(await first, { rc: 0, leaks: [], killed: false });
  t.true(thread.isClosed);
  t.is(thread.sysLua('return 1', 8, new Uint8Array(4), 4), -errno.ESHUTDOWN);
  t.is(thread.sysLua('return 1', 8, null, 0), -errno.ESHUTDOWN);
  t.is(thread.exec('return 1').rc, -errno.ESHUTDOWN);
  t.is((await thread.submit('return 1')).rc, -errno.ESHUTDOWN);
});

test('KernelThread.start boots without blocking the event loop: a 5 ms timer keeps ticking (spawn blocks it)', async (t) => {
  let ticks = 0;
  const timer = setInterval(() => ticks++, 5);
  try {
    const spawned = KernelThread.spawn(SMALL);
    t.is(ticks, 0, 'spawn holds the event loop for the whole boot');
    await spawned.close();
    ticks = 0;
    const pending = KernelThread.start(SMALL);
    let resolved = false;
    void pending.then(() => (resolved = true));
    const thread = await pending;
    t.true(resolved);
    t.true(ticks > 0, 'the timer ticked while the worker booted');
    t.deepEqual(thread.exec('return 6 * 7'), { rc: 2, value: '42' });
    await thread.close();
  } finally {
    clearInterval(timer);
  }
  await t.throwsAsync(KernelThread.start({ deadlineMs: 0 }), { message: /deadlineMs/ });
  await t.throwsAsync(KernelThread.start({ ...SMALL, modules: ['file:///nonexistent/module.js'] }), { message: /failed to boot/ });
});

test('kill and replace: after a deadline kill the standby serves the next call, already booted', async (t) => {
  const thread = await KernelThread.start({ ...SMALL, deadlineMs: 200, limits: { instructions: Infinity } }); // only the deadline stops the hang
  try {
    await waitFor(() => thread.info().standby, 20_000, 'the standby to boot');
    const before = thread.info().threadId;
    t.is(thread.exec('return string.find(("a"):rep(1e4), ".-.-.-.-b$")').rc, -errno.ETIME);
    t.true(thread.info().ready, 'the replacement had booted before the kill');
    t.not(thread.info().threadId, before);
    t.false(thread.info().standby, 'a new standby is booting');
    t.deepEqual(execSettled(thread, 'return "next call"'), { rc: 9, value: 'next call' });
    await waitFor(() => thread.info().standby, 20_000, 'the new standby to boot');
    t.is(thread.info().kills, 1);
  } finally {
    await thread.close();
  }
  const noStandby = await KernelThread.start({ ...SMALL, standby: false });
  t.false(noStandby.info().standby);
  await noStandby.close();
});
