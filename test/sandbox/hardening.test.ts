// Issue 9: promises of the sandbox that an adversary broke on the first landing. Each test
// is named after the promise it proves and fails on the code before its fix.
import test from 'ava';
import { Kernel, KernelThread, errno, sysLua, type LunatikModule, type ShutdownReport } from '../../src/index.js';
import { builtinModules } from '../../src/bindings/builtin.js';
import { assertServes, atEveryDepth } from './helpers.js';

// ---------------------------------------------------------------- 1. library tables stay read-only

test('pairs over a library table never hands out the real table', (t) => {
  const k = Kernel.boot();
  const attacks = [
    'local _, real = pairs(string) real.rep = function() return "PWNED" end',
    'local _, real = pairs(string) rawset(real, "rep", function() return "PWNED" end)',
    'local it, real = pairs(string) local _, v = it(real, nil) real.rep = v',
    'local _, real = pairs(math) rawset(real, "floor", print)',
    'local _, real = select(1, pairs(table)) real.concat = nil',
    'local real = select(2, pairs(string)) real.format = function() return "<0>forged" end',
  ];
  for (const attack of attacks) {
    const r = k.exec(attack);
    t.is(r.rc, -errno.ECANCELED, attack);
    t.regex(r.error ?? '', /read-only table/, attack);
  }
  t.is(k.exec('return string.rep("ab", 2) .. math.floor(2.5) .. table.concat({1, 2})').value, 'abab212');
  // What pairs hands back is the proxy itself: the same table the global names.
  t.is(k.exec('local _, s = pairs(string) return rawequal(s, string)').value, 'true');
  t.is(k.exec('return next(string) == nil and rawget(string, "rep") == nil').value, 'true');
});

test('pairs over a library table still lists every library function', (t) => {
  const k = Kernel.boot();
  const listed = k.exec('local n = {} for name, f in pairs(string) do n[#n + 1] = name .. "=" .. type(f) end table.sort(n) return table.concat(n, " ")').value ?? '';
  for (const name of ['byte', 'char', 'find', 'format', 'gmatch', 'gsub', 'len', 'lower', 'match', 'rep', 'reverse', 'sub', 'upper']) {
    t.true(listed.includes(`${name}=function`), name);
  }
  t.false(listed.includes('dump='));
  t.is(k.exec('local n = 0 for k, v in pairs(math) do if k == "pi" then n = v end end return n == math.pi').value, 'true');
});

test('printk levels cannot be forged by replacing the real string.format', (t) => {
  const k = Kernel.boot();
  const r = k.exec('local _, s = pairs(string) pcall(function() s.format = function() return "<0>forged" end end) printk("%d", 7)');
  t.is(r.rc, 0);
  const last = k.dmesg().at(-1)!;
  t.is(last.text, '7');
  t.not(last.level, 0);
});

// ---------------------------------------------------------------- 2. shutdown during a call

/** A module whose `stop()` shuts its own kernel down from inside the running call. */
function selfStopper(kernel: () => Kernel, reports: ShutdownReport[]): LunatikModule {
  return {
    name: 'stopper',
    init(ctx) {
      ctx.function('stop', (lua, L) => {
        reports.push(kernel().shutdown());
        lua.pushBoolean(L, kernel().isShutdown);
        return 1;
      });
    },
  };
}

test('shutdown from inside a running call is refused with EBUSY and breaks nothing', (t) => {
  const reports: ShutdownReport[] = [];
  const k: Kernel = Kernel.boot({ modules: [...builtinModules, selfStopper(() => k, reports)] });
  t.is(k.exec('x = 41 return tostring(stop())').value, 'false');
  t.deepEqual(reports, [{ rc: -errno.EBUSY, leaks: [] }]);
  t.is(k.exec('return x + 1').value, '42');
  // The next kernel of the process gets a whole instance, its globals intact.
  const next = Kernel.boot();
  t.is(next.exec('return tostring(1) .. type(print)').value, '1function');
  t.is(k.exec('return tostring(x)').value, '41');
  t.deepEqual(k.shutdown(), { rc: 0, leaks: [] });
  t.is(next.exec('return tostring(2)').value, '2');
  t.deepEqual(next.shutdown(), { rc: 0, leaks: [] });
});

// ---------------------------------------------------------------- 3. the host's JS stack runs out

test('sysLua returns an errno at any JS stack depth and the kernel keeps serving', (t) => {
  const k = Kernel.boot();
  k.exec('kept = "yes"');
  const result = new Uint8Array(16);
  const { values, escaped } = atEveryDepth(() => k.sysLua('return 1+1', 10, result, 16));
  t.deepEqual(escaped, []);
  t.true(values.every((rc) => rc === 1 || rc === -errno.ENOMEM), [...new Set(values)].join(','));
  t.true(values.includes(-errno.ENOMEM), 'the limit was reached');
  assertServes(t, k);
  t.deepEqual(k.shutdown().rc, 0);
});

test('exec and the module-level sysLua return an errno at any JS stack depth', (t) => {
  const k = Kernel.boot();
  const execs = atEveryDepth(() => k.exec('return "ok"').rc);
  t.deepEqual(execs.escaped, []);
  t.true(execs.values.every((rc) => rc === 2 || rc === -errno.ENOMEM));
  assertServes(t, k);
  const result = new Uint8Array(16);
  const global = atEveryDepth(() => sysLua('return 1+1', 10, result, 16));
  t.deepEqual(global.escaped, []);
  t.true(global.values.every((rc) => rc === 1 || rc === -errno.ENOMEM));
  t.is(sysLua('return 3', 8, result, 16), 1);
});

test('KernelThread.sysLua returns an errno at any JS stack depth and the thread keeps serving', async (t) => {
  const thread = KernelThread.spawn();
  try {
    thread.exec('kept = "yes"');
    const result = new Uint8Array(16);
    const { values, escaped } = atEveryDepth(() => thread.sysLua('return 1+1', 10, result, 16));
    t.deepEqual(escaped, []);
    t.true(values.every((rc) => rc === 1 || rc === -errno.ENOMEM), [...new Set(values)].join(','));
    t.is(thread.exec('return 6 * 7').value, '42');
  } finally {
    await thread.close();
  }
});

// ---------------------------------------------------------------- 4. buf() of a huge buffer

test('buf() on a buffer above 2^28 bytes is -ENOMEM, not a write past its table', (t) => {
  const k = Kernel.boot({ memory: { limit: 320 * 2 ** 20 } });
  k.exec('kept = "yes"');
  const r = k.exec('local b = buffer.new((1 << 28) + 1) return #b()');
  t.is(r.rc, -errno.ENOMEM, r.error);
  t.false(k.dmesg().some((rec) => /kernel panic/.test(rec.text)));
  t.is(k.exec('return kept').value, 'yes', 'the state lived on');
  t.is(k.exec('local b = buffer.from("xyz") local t = b() return #t .. t[1] .. t[3]').value, '3120122');
});

// ---------------------------------------------------------------- 5. chunk names do not accumulate

test('distinct exec names do not accumulate in the image', (t) => {
  const k = Kernel.boot();
  const image = (k as unknown as { machine: { image: { memoryBytes: number } } }).machine.image;
  const name = (i: number) => `${i}:${'n'.repeat(4096)}`;
  for (let i = 0; i < 100; i++) k.exec('return 1', { name: name(i) });
  const before = image.memoryBytes;
  // 4,000 names of 4 KiB: 16 MiB if each were kept.
  for (let i = 100; i < 4100; i++) t.is(k.exec('return 1', { name: name(i) }).rc, 1);
  t.is(image.memoryBytes, before);
  t.regex(k.exec('error("x")', { name: 'my.lua' }).error ?? '', /^my\.lua:1: x$/);
});

// ---------------------------------------------------------------- 8. binding result counts

/** A module whose functions misreport what they pushed, or throw what a longjmp once looked like. */
const liar: LunatikModule = {
  name: 'liar',
  init(ctx) {
    ctx.function('claims', (lua, L) => lua.checkInteger(L, 1));
    ctx.function('pushes_one_claims', (lua, L) => {
      const n = lua.checkInteger(L, 1);
      lua.pushInteger(L, 7);
      return n;
    });
    ctx.function('weird', (lua, L) => (lua.checkInteger(L, 1) === 0 ? Number.NaN : (undefined as unknown as number)));
    ctx.function('throws_infinity', () => {
      throw Infinity;
    });
    ctx.function('throws_unprintable', () => {
      throw { toString() { throw new Error('no'); } };
    });
  },
};

test('a binding cannot claim more results than it pushed', (t) => {
  const k = Kernel.boot({ modules: [...builtinModules, liar] });
  for (const n of [1000, 50, 3]) {
    const r = k.exec(`return claims(${n})`);
    t.is(r.rc, -errno.ECANCELED, `claims ${n}`);
    t.regex(r.error ?? '', new RegExp(`returned ${n} as its result count, with 1 value on its stack`));
  }
  t.regex(k.exec('return pushes_one_claims(3)').error ?? '', /returned 3 as its result count, with 2 values/);
  t.is(k.exec('return pushes_one_claims(1)').value, '7');
  t.is(k.exec('return select("#", pushes_one_claims(2))').value, '2', 'its argument and its push');
  t.regex(k.exec('return weird(0)').error ?? '', /returned NaN/);
  t.regex(k.exec('return weird(1)').error ?? '', /returned undefined/);
  t.is(k.exec('return select("#", claims(0))').value, '0');
  assertServes(t, k);
});

test('a binding that throws Infinity raises a Lua error, not a longjmp', (t) => {
  const k = Kernel.boot({ modules: [...builtinModules, liar] });
  k.exec('kept = 1');
  t.is(k.exec('local ok, e = pcall(throws_infinity) return tostring(ok) .. " " .. e').value, 'false Infinity');
  t.regex(k.exec('local ok, e = pcall(throws_unprintable) return e').value ?? '', /threw a value \(object\) that cannot be described/);
  t.is(k.exec('return kept').value, '1');
  t.false(k.dmesg().some((rec) => /kernel panic/.test(rec.text)));
});

// ---------------------------------------------------------------- 9. the smaller ones

test('gc, meminfo, buddyinfo, slabinfo and proc answer after shutdown', (t) => {
  const k = Kernel.boot();
  k.exec('keep = string.rep("x", 100000)');
  const before = k.meminfo();
  t.deepEqual(k.shutdown().rc, 0);
  t.is(k.gc(), -errno.ESHUTDOWN);
  const after = k.meminfo();
  t.is(after.totalPages, before.totalPages);
  t.is(after.usedBytes, 0, 'the state was closed: nothing is held');
  t.is(k.buddyinfo().length, 11);
  t.true(Array.isArray(k.slabinfo()));
  t.regex(k.proc('meminfo'), /^MemTotal:/m);
  t.regex(k.proc('buddyinfo'), /^Node 0, zone/);
  t.regex(k.proc('slabinfo'), /^slabinfo - version/);
  // The figures are a copy: the pool itself went on to serve another kernel.
  const other = Kernel.boot();
  other.exec('big = string.rep("y", 200000)');
  t.is(k.meminfo().usedBytes, 0);
  other.shutdown();
});

test('gc refuses while the kernel runs a script, instead of collecting under it', (t) => {
  let seen = 0;
  const k: Kernel = Kernel.boot({
    modules: [...builtinModules, { name: 'gcer', init(ctx) { ctx.function('collect', () => ((seen = k.gc()), 0)); } }],
  });
  t.is(k.exec('collect() return 1').value, '1');
  t.is(seen, -errno.EBUSY);
  t.true(k.gc() > 0);
});

test('insmod of an object whose getters throw is -EINVAL, and boot says which module', (t) => {
  const k = Kernel.boot();
  const hostile = {
    get name(): string {
      throw new Error('no name for you');
    },
    init() {},
  };
  t.is(k.insmod(hostile), -errno.EINVAL);
  let reads = 0;
  const fickle = {
    get name(): string {
      reads++;
      return reads === 1 ? 'fickle' : '../../etc';
    },
    init() {},
  };
  t.is(k.insmod(fickle), 0);
  t.is(reads, 1, 'the name was read once and kept');
  t.true(k.lsmod().some((m) => m.name === 'fickle'));
  t.is(k.rmmod('fickle'), 0);
  t.throws(() => Kernel.boot({ modules: [hostile] }), { message: /cannot load module that cannot be read at boot: EINVAL/ });
  assertServes(t, k);
});

test('a looping __gc planted by a script cannot hang gc() or shutdown() of a plain kernel', (t) => {
  // The default fuel budget bounds the kernel's own collections too: once a finalizer has
  // spent it, every later one raises at once.
  const k = Kernel.boot();
  const plant = 'setmetatable({}, { __gc = function() while true do end end })';
  t.is(k.exec(plant).rc, 0);
  t.true(k.gc() > 0, 'gc() returned');
  t.is(k.exec('return 1 + 1').value, '2');
  t.is(k.exec(`${plant} ${plant} return 3`).value, '3');
  const report = k.shutdown();
  t.is(report.rc, 0);
  t.deepEqual(report.leaks, []);
  t.true(k.dmesg().some((rec) => /__gc/.test(rec.text) && /budget/.test(rec.text)), 'the finalizer error was logged as a warning');
});


test('a KernelThread call cut short after posting its request does not mix with the next call', (t) => {
  const thread = KernelThread.spawn({ limits: { instructions: Infinity } });
  try {
    // Where the host's stack could run out after the request is posted: the doorbell.
    const inc = (thread as unknown as { inc: { ring(): void } }).inc;
    const ring = inc.ring.bind(inc);
    let cut = true;
    inc.ring = () => {
      ring();
      if (cut) {
        cut = false;
        throw new RangeError('Maximum call stack size exceeded');
      }
    };
    t.is(thread.exec('local n = 0 for i = 1, 2e7 do n = n + 1 end return "old"').rc, -errno.ENOMEM);
    t.deepEqual(thread.exec('return "new"'), { rc: 3, value: 'new' });
    t.deepEqual(thread.exec('return 1 + 1'), { rc: 1, value: '2' });
  } finally {
    void thread.close();
  }
});
