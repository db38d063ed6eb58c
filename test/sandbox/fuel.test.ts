// Fuel (wasm/lua/lunatik/lfuel.c): every loop a script can keep running ends in -ETIME in
// the kernel's own thread, with no worker and no deadline: Lua loops of every shape, the C
// loops of the libraries (the state keeps its globals), finalizers at close. The stop is
// deterministic across processes, and the C loops are charged in proportion to their work.
import test from 'ava';
import { execFileSync } from 'node:child_process';
import { Kernel, errno } from '../../src/index.js';
import { DEFAULT_INSTRUCTIONS } from '../../src/sandbox/options.js';
import { assertServes, call } from './helpers.js';

const ETIME = -errno.ETIME;
const BUDGET = 1_000_000;

/** Loops in Lua code: the VM's fuel stops them wherever they hide. */
const LUA_LOOPS: Record<string, string> = {
  'while true': 'while true do end',
  'tail calls': 'local function f(n) return f(n + 1) end return f(1)',
  'coroutine ping-pong': 'local co = coroutine.wrap(function() while true do coroutine.yield() end end) while true do co() end',
  'coroutine tree': `
    local function tree(depth)
      if depth == 0 then while true do end end
      for i = 1, 40 do coroutine.wrap(function() tree(depth - 1) end)() end
    end
    tree(4)`,
  'loop around pcall': 'while true do pcall(error, "again") end',
  'pcall around a loop': 'while true do pcall(function() while true do end end) end',
  'xpcall with a looping handler': 'return xpcall(error, function() while true do end end)',
  '__close run by coroutine.wrap after the budget': `
    coroutine.wrap(function()
      local x <close> = setmetatable({}, { __close = function() while true do end end })
      while true do end
    end)()`,
  '__close run by coroutine.close': `
    local co = coroutine.create(function()
      local x <close> = setmetatable({}, { __close = function() while true do end end })
      coroutine.yield()
    end)
    coroutine.resume(co)
    while true do coroutine.close(co) end`,
  '__gc that loops during the call': `
    setmetatable({}, { __gc = function() while true do end end })
    local t = {}
    for i = 1, 1e7 do t[i % 64] = { i } end`,
  'load with a reader that never ends': 'return load(function() return " " end)',
  'table.sort with a comparator that loops': 'local t = {} for i = 1, 100 do t[i] = i end table.sort(t, function() while true do end end)',
  'table.sort with a comparator that errors, in a loop': `
    local t = {} for i = 1, 100 do t[i] = i end
    while true do pcall(table.sort, t, function() error("no") end) end`,
  'gsub callback that loops': 'return ("abc"):gsub(".", function() while true do end end)',
};

/** Loops inside the image's C code, on script input: the library functions' own fuel stops them. */
const C_LOOPS: Record<string, string> = {
  'string.find, pathological pattern': 'return string.find(("a"):rep(1e4), ".-.-.-.-b$")',
  'string.match, pathological pattern': 'return string.match(("a"):rep(1e4), ".-.-.-.-b$")',
  'string.gmatch, pathological pattern': 'for m in string.gmatch(("a"):rep(1e4), ".-.-.-.-b$") do end',
  'string.gsub, pathological pattern': 'return string.gsub(("a"):rep(1e4), ".-.-.-.-b$", "")',
  'string.rep of an empty string, 1e15 times': 'return #string.rep("", 1e15)',
  'string.rep of an empty string with an empty separator': 'return #string.rep("", 1e15, "")',
  'string.rep with a separator, 3e7 times': 'return #string.rep("ab", 3e7, ",")',
  'table.move over 2^62 indices': 'table.move({}, 1, 1 << 62, 1, {})',
  'table.concat of a huge range': 'return #table.concat(setmetatable({}, { __index = function() return "x" end }), "", 1, 1 << 40)',
  'table.unpack near the stack limit, repeated': 'local t = {} for i = 1, 1e5 do t[i] = i end while true do table.unpack(t) end',
  'plain string.find over a long string, repeated': 'local s = ("x"):rep(1e5) while true do s:find("y", 1, true) end',
  'utf8.len over a long string, repeated': 'local s = ("é"):rep(1e5) while true do utf8.len(s) end',
};

test('every Lua loop shape ends in -ETIME in-thread; the kernel keeps serving and its globals', (t) => {
  const k = Kernel.boot({ limits: { instructions: BUDGET } });
  t.is(call(k, 'kept = 42').rc, 0);
  for (const [shape, code] of Object.entries(LUA_LOOPS)) {
    const r = call(k, code);
    t.is(r.rc, ETIME, shape);
    t.is(r.text, `instruction budget of ${BUDGET} exceeded`, shape);
    t.is(k.lastStats!.instructions, BUDGET, `${shape}: the call used exactly its budget`);
    t.is(call(k, 'return kept').text, '42', shape);
  }
  assertServes(t, k);
  t.deepEqual(k.shutdown().leaks, []);
});

test('every C loop on script input ends in -ETIME in-thread, and the state keeps its globals', (t) => {
  const k = Kernel.boot({ memory: { limit: 256 * 1024 * 1024 }, limits: { instructions: BUDGET } });
  t.is(call(k, 'kept = 42').rc, 0);
  for (const [shape, code] of Object.entries(C_LOOPS)) {
    const r = call(k, code);
    t.is(r.rc, ETIME, shape);
    t.is(call(k, 'return kept').text, '42', shape);
  }
  t.deepEqual(k.shutdown().leaks, []);
});

test('the default budget stops while-true and the pathological pattern; Infinity turns it off', (t) => {
  const k = Kernel.boot();
  t.is(call(k, 'while true do end').rc, ETIME);
  t.is(k.lastStats!.instructions, DEFAULT_INSTRUCTIONS);
  t.is(call(k, C_LOOPS['string.find, pathological pattern']!).rc, ETIME);
  t.regex(call(k, 'while true do end').text, /instruction budget of 100000000 exceeded/);
  // Past the default budget, without one: a loop of 2 instructions per iteration, 6e7 times.
  const unlimited = Kernel.boot({ limits: { instructions: Infinity } });
  const r = call(unlimited, 'local n = 0 for i = 1, 6e7 do n = n + 1 end return n');
  t.is(r.text, '60000000');
  t.true(unlimited.lastStats!.instructions > DEFAULT_INSTRUCTIONS);
  t.throws(() => Kernel.boot({ limits: { instructions: 0 } }), { instanceOf: RangeError });
  t.throws(() => Kernel.boot({ limits: { instructions: -Infinity } }), { instanceOf: RangeError });
});

test('colliding integer keys: the hash-chain walks are counted; a rehash past the budget ends the call', (t) => {
  // 65,536 keys that all land in one chain of a 2^16-node table (hash: key mod 65535).
  const k = Kernel.boot({ limits: { instructions: BUDGET } });
  const r = call(k, 'local t = {} for i = 1, 65536 do t[i * 65535] = true end return "built"');
  t.is(r.rc, ETIME);
  assertServes(t, k, 'after the collision attack');
});

test('a __gc that loops at close or in kernel.gc() stops at the budget: shutdown returns, nothing leaks', (t) => {
  const k = Kernel.boot({ limits: { instructions: BUDGET } });
  t.is(call(k, 'trap = setmetatable({}, { __gc = function() while true do end end }) return 1').rc, 1);
  t.is(call(k, 'trap = nil').rc, 0);
  k.gc();
  t.true(k.dmesg().some((rec) => /__gc.*instruction budget exceeded/.test(rec.text)), 'the finalizer error is a warning in the log');
  assertServes(t, k);
  t.is(call(k, 'again = setmetatable({}, { __gc = function() while true do end end }) return 1').rc, 1);
  t.deepEqual(k.shutdown().leaks, []);
});

test('the C loops are charged in proportion to their work', (t) => {
  const k = Kernel.boot({ memory: { limit: 128 * 1024 * 1024 }, limits: { instructions: Infinity } });
  const cost = (setup: string, op: string) => {
    t.is(call(k, setup).rc, 0, setup);
    t.true(call(k, op).rc >= 0, op);
    return k.lastStats!.instructions;
  };
  const pairs: [string, string, string, number][] = [
    // [setup for small, setup for large, operation, the least extra fuel of the large one:
    // a unit per element, character or matcher step beyond the small input's]
    ['t = {} for i = 1, 10 do t[i] = "x" end', 't = {} for i = 1, 1e5 do t[i] = "x" end', 'return #table.concat(t)', 9e4],
    ['t = {} for i = 1, 10 do t[i] = -i end', 't = {} for i = 1, 1e5 do t[i] = -i end', 'table.sort(t)', 9e4],
    ['t = {} for i = 1, 10 do t[i] = i end', 't = {} for i = 1, 1e5 do t[i] = i end', 'table.move(t, 1, #t, 2)', 9e4],
    ['t = {} for i = 1, 10 do t[i] = i end', 't = {} for i = 1, 1e5 do t[i] = i end', 'table.insert(t, 1, 0)', 9e4],
    ['s = ("a"):rep(10)', 's = ("a"):rep(1e5)', 'return s:find("^.-b")', 9e4],
    ['s = ("é"):rep(10)', 's = ("é"):rep(1e5)', 'return utf8.len(s)', 9e4],
    ['n = 10', 'n = 1e5', 'return #(""):rep(n)', 9e4],
  ];
  for (const [small, large, op, least] of pairs) {
    const extra = cost(large, op) - cost(small, op);
    t.true(extra >= least, `${op}: ${extra} more units for the large input`);
  }
});

test('the same script with the same budget stops at the same count in two separate processes', (t) => {
  // Work whose order depends on string hashes, table.sort's pivots and the GC, then a stop.
  const script = `
    import { Kernel } from ${JSON.stringify(new URL('../../src/index.js', import.meta.url).href)};
    const k = Kernel.boot({ limits: { instructions: 3_000_000 } });
    k.exec('n = 0');
    const r = k.exec(\`
      local t = {}
      for i = 1, 5000 do t["k" .. i] = i end
      local keys = {}
      for key in pairs(t) do keys[#keys + 1] = key end
      table.sort(keys)
      while true do
        for key in pairs(t) do n = n + #key end
        setmetatable({}, { __gc = function() n = n + 1 end })
      end\`);
    const used = k.lastStats.instructions;
    console.log(JSON.stringify({ rc: r.rc, n: k.exec("return n").value, used }));
  `;
  const run = () => JSON.parse(execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' })) as {
    rc: number; n: string; used: number;
  };
  const first = run();
  const second = run();
  t.is(first.rc, ETIME);
  t.true(Number(first.n) > 1000);
  t.deepEqual(second, first);
});
