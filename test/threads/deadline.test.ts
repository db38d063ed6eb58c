// Infinite loops of every shape end at the thread's deadline with -ETIME, including those
// no hook can see (a pattern stuck in C, a looping __gc); the replacement kernel has its
// modules again, and its callers get their own results.
import test from 'ava';
import { KernelThread, errno } from '../../src/index.js';
import { SMALL, execSettled } from './helpers.js';

const ANSWER_URL = new URL('./fixtures/answer-module.js', import.meta.url).href;
const DEADLINE_MS = 100;

const LOOPS: Record<string, string> = {
  'while true': 'while true do end',
  'repeat until false': 'local n = 0 repeat n = n + 1 until false',
  'tail-call recursion': 'local function f(n) return f(n + 1) end return f(1)',
  'coroutine ping-pong': 'local co = coroutine.wrap(function() while true do coroutine.yield() end end) while true do co() end',
  'coroutines nested': 'local function spin() while true do coroutine.wrap(function() end)() end end return coroutine.wrap(spin)()',
  'loop around pcall': 'while true do pcall(error, "again") end',
  'pcall around a loop': 'while true do pcall(function() while true do end end) end',
  'xpcall with a looping handler': 'return xpcall(error, function() while true do end end)',
  'gsub callback that loops': 'return ("abc"):gsub(".", function() while true do end end)',
  'pathological pattern in C': 'return string.find(("a"):rep(1e4), ".-.-.-.-b$")',
  'string.rep in C': 'local s = ("x"):rep(1e5) while true do s:find("y") end',
  '__gc that loops during the call': `
    setmetatable({}, { __gc = function() while true do end end })
    local t = {}
    for i = 1, 1e7 do t[i % 64] = { i } end`,
  '__close that loops': 'do local x <close> = setmetatable({}, { __close = function() while true do end end }) end',
};

const REPLACEMENT_CHECK = 'return type(gc_count) .. type(printk) .. answer() .. tostring(seen)';

test('every loop shape through a synchronous call: -ETIME at the deadline, then a fresh kernel with its modules', (t) => {
  const thread = KernelThread.spawn({ ...SMALL, deadlineMs: DEADLINE_MS, modules: ['printk', 'inspect', ANSWER_URL] });
  try {
    for (const [shape, code] of Object.entries(LOOPS)) {
      // The short deadline is for the loops; on a loaded machine a plain call may miss it too.
      t.deepEqual(execSettled(thread, 'seen = true return 1'), { rc: 1, value: '1' }, shape);
      const kills = thread.info().kills;
      const result = thread.exec(code);
      t.is(result.rc, -errno.ETIME, shape);
      t.regex(result.error ?? '', /deadline of 100 ms exceeded/, shape);
      t.true(thread.info().kills > kills, shape);
      // Globals died with the old kernel; modules (builtins and the file: URL one) came back.
      t.deepEqual(execSettled(thread, REPLACEMENT_CHECK), { rc: 21, value: 'functionfunction42nil' }, shape);
    }
  } finally {
    void thread.close();
  }
});

test('the same shapes as asynchronous work: -ETIME each, later work unaffected', async (t) => {
  const thread = KernelThread.spawn({ ...SMALL, deadlineMs: DEADLINE_MS });
  try {
    const shapes = Object.entries(LOOPS);
    const results = await Promise.all(shapes.flatMap(([, code], i) => [thread.submit(code), thread.submit(`return ${i}`)]));
    shapes.forEach(([shape], i) => {
      t.is(results[2 * i]!.rc, -errno.ETIME, shape);
      // Its own value, or (a loaded machine missing the short deadline) -ETIME: never another item's.
      const after = results[2 * i + 1]!;
      if (after.rc !== -errno.ETIME) t.deepEqual(after, { rc: String(i).length, value: String(i) }, `after ${shape}`);
    });
    t.true(thread.info().kills >= shapes.length);
  } finally {
    void thread.close();
  }
});

test('an instruction budget ends hook-visible loops without a kill; a hang in C still needs the deadline', (t) => {
  const thread = KernelThread.spawn({ ...SMALL, deadlineMs: 2000, limits: { instructions: 1e5 } });
  try {
    for (const code of [LOOPS['while true']!, LOOPS['loop around pcall']!, LOOPS['coroutine ping-pong']!]) {
      const r = thread.exec(code);
      t.is(r.rc, -errno.ETIME);
      t.regex(r.error ?? '', /instruction budget/);
    }
    t.is(thread.info().kills, 0);
    const r = thread.exec(LOOPS['pathological pattern in C']!);
    t.is(r.rc, -errno.ETIME);
    t.regex(r.error ?? '', /deadline of 2000 ms/);
    t.is(thread.info().kills, 1);
  } finally {
    void thread.close();
  }
});

test('a __gc that loops at close: the shutdown is killed at the deadline and close still resolves', async (t) => {
  const thread = KernelThread.spawn({ ...SMALL, deadlineMs: DEADLINE_MS });
  t.deepEqual(execSettled(thread, 'trap = setmetatable({}, { __gc = function() while true do end end }) return 1'), { rc: 1, value: '1' });
  t.deepEqual(await thread.close(), { rc: 0, leaks: [], killed: true });
});

test('a clean close runs finalizers and reports no leaks', async (t) => {
  const thread = KernelThread.spawn({ ...SMALL, deadlineMs: 5000 });
  t.deepEqual(thread.exec('keep = setmetatable({}, { __gc = function() printk("bye") end }) return 1'), { rc: 1, value: '1' });
  t.deepEqual(await thread.close(), { rc: 0, leaks: [], killed: false });
});
