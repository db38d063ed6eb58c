// lunatik_buffer: the seed's example, DESIGN.md's deliberate differences from lunatik-ng
// (1-based, range-checked, zero-filled, no wrapping, #buf), bad input of every kind, and
// the host's zero-copy view. Expected values come from the documented behaviour, and the
// Wasm fast path is checked against a model of it (fast-check).
import test from 'ava';
import fc from 'fast-check';
import { Kernel } from '../../src/index.js';
import { bufferBytes, bufferModule, checkBuffer } from '../../src/bindings/buffer.js';
import { builtinModules } from '../../src/bindings/builtin.js';
import type { LunatikModule } from '../../src/bindings/module.js';
import { instantiateBufferAccess, layoutHolds } from '../../wasm/buffer-access.js';
import { SIG_LUA_CFUNCTION, wasmFunction } from '../../wasm/trampoline.js';
import { ECANCELED, ENOMEM, assertLuaError, assertServes, machineOf, sys, tableSlots } from './helpers.js';

/** A module with a userdata type of its own, for "foreign userdata" cases. */
const other: LunatikModule = {
  name: 'other',
  init(ctx) {
    ctx.userdata('test.other', { metamethods: {} });
    ctx.function('other', (lua, L) => {
      lua.newUserdata(L, 16, 'test.other');
      return 1;
    });
  },
};

const kernel = Kernel.boot();
kernel.insmod(other);

test('the seed example runs as written', (t) => {
  const r = kernel.exec('buf = buffer.new(16); buf[1] = 100; buf[16] = 255');
  t.deepEqual(r, { rc: 0, value: '' });
  t.is(kernel.exec('return buf[1] .. "," .. buf[16] .. "," .. #buf').value, '100,255,16');
});

test('buffer.new zero-fills, even memory that held other bytes', (t) => {
  // Garbage buffers full of 0xff, then fresh ones: the allocator reuses the memory.
  const r = kernel.exec(`
    for round = 1, 20 do
      local junk = {}
      for i = 1, 16 do junk[i] = buffer.from(string.rep("\\255", 4096 + i)) end
    end
    for round = 1, 200 do
      local b = buffer.new(4096 + round % 32)
      for i = 1, #b do if b[i] ~= 0 then return "nonzero at " .. i end end
    end
    return "ok"`);
  t.is(r.value, 'ok');
});

test('indices are 1-based and range-checked: writes anywhere out of range, reads below 1', (t) => {
  kernel.exec('b16 = buffer.new(16)');
  t.is(kernel.exec('b16[1] = 1; b16[16] = 16; return b16[1] + b16[16]').value, '17');
  for (const i of ['0', '17', '-1', 'math.mininteger', 'math.maxinteger', '2^53']) {
    assertLuaError(t, kernel, `b16[${i}] = 1`, /buffer index -?[0-9.e+]+ out of range \(1\.\.16\)/);
  }
  for (const i of ['0', '-1', 'math.mininteger']) {
    assertLuaError(t, kernel, `return b16[${i}]`, /buffer index -?[0-9.e+]+ out of range \(1\.\.16\)/);
  }
  assertLuaError(t, kernel, 'buffer.new(0)[1] = 0', /out of range \(the buffer is empty\)/);
});

test('a read past the end is nil, as in a table, so ipairs stops at the end of a buffer', (t) => {
  for (const i of ['17', '1000', 'math.maxinteger', '2^53']) t.is(kernel.exec(`return tostring(buffer.new(16)[${i}])`).value, 'nil', i);
  t.is(kernel.exec('return tostring(buffer.new(0)[1])').value, 'nil');
  t.is(kernel.exec('local b = buffer.from("abc") local s = 0 for i, v in ipairs(b) do s = s + i * v end return s').value, String(97 + 2 * 98 + 3 * 99));
  t.is(kernel.exec('local n = 0 for _ in ipairs(buffer.new(0)) do n = n + 1 end return n').value, '0');
});

test('element access works in coroutines and on a deep, reallocated stack', (t) => {
  t.is(kernel.exec(`
    local b = buffer.new(4)
    local co = coroutine.wrap(function() b[1] = 5 coroutine.yield(b[1]) b[2] = 6 return b[2] end)
    return co() + co()`).value, '11');
  t.is(kernel.exec(`
    local b = buffer.new(5000)
    local function f(n, a, c, d, e)
      if n == 0 then return 0 end
      b[n] = n % 256
      return f(n - 1, a, c, d, e) + b[n] - n % 256
    end
    return f(5000, 1, 2, 3, 4)`).value, '0');
  t.is(kernel.exec('local b = buffer.new(3) local ok, e = pcall(function() b[4] = 1 end) b[3] = 9 return b[3] .. " " .. tostring(ok)').value, '9 false');
});

test('the error names the script position', (t) => {
  assertLuaError(t, kernel, 'local b = buffer.new(2)\nb[3] = 1', /^sysLua:2: buffer index 3 out of range \(1\.\.2\)$/);
});

test('values are integers 0..255; anything else is an error, never wrapped', (t) => {
  kernel.exec('b4 = buffer.new(4)');
  t.is(kernel.exec('b4[1] = 0; b4[2] = 255; b4[3] = 7.0; return b4[1] .. b4[2] .. b4[3]').value, '02557');
  t.is(kernel.exec('return math.type(b4[3])').value, 'integer');
  const cases: [string, RegExp][] = [
    ['256', /got 256$/], ['-1', /got -1$/], ['1.5', /got 1\.5$/], ['"1"', /got string "1"$/],
    ['nil', /got nil$/], ['true', /got boolean$/], ['{}', /got table$/], ['0/0', /got -?nan$/],
    ['math.huge', /got inf$/], ['math.maxinteger', /got 9223372036854775807$/], ['2^63', /got 9\.2233720368548e\+18$/],
  ];
  for (const [value, pattern] of cases) {
    assertLuaError(t, kernel, `b4[1] = ${value}`, /buffer value must be an integer from 0 to 255, got /);
    assertLuaError(t, kernel, `b4[1] = ${value}`, pattern);
  }
  t.is(kernel.exec('return b4[1]').value, '0', 'a rejected write changes nothing');
});

test('indices must be integers: floats with an integral value are accepted', (t) => {
  kernel.exec('b8 = buffer.new(8)');
  t.is(kernel.exec('b8[2.0] = 9; return b8[2] + b8[2.0]').value, '18');
  for (const [key, shown] of [['1.5', '1.5'], ['0/0', '-?nan'], ['{}', 'table'], ['true', 'boolean'], ['"1"', 'string "1"'], ['"x"', 'string "x"']]) {
    assertLuaError(t, kernel, `b8[${key}] = 1`, new RegExp(`buffer index must be an integer, got ${shown}$`));
  }
  for (const [key, shown] of [['1.5', '1.5'], ['{}', 'table'], ['true', 'boolean'], ['nil', 'nil']]) {
    assertLuaError(t, kernel, `return b8[${key}]`, new RegExp(`buffer index must be an integer, got ${shown}$`));
  }
});

test('string keys read methods, anything else as nil; metatable fields stay hidden', (t) => {
  t.is(kernel.exec('local b = buffer.new(1) return type(b.tostring)').value, 'function');
  t.is(kernel.exec('local b = buffer.new(1) return b.nosuch == nil and b["1"] == nil and b.__index == nil and b.__name == nil').value, 'true');
  t.is(kernel.exec('return getmetatable(buffer.new(1))').value, 'false');
  assertLuaError(t, kernel, 'buffer.new(1):nosuch()', /attempt to call a nil value \(method 'nosuch'\)/);
});

test('#buf is the size, buf() a table of the unsigned bytes', (t) => {
  t.is(kernel.exec('return #buffer.new(0) .. "," .. #buffer.new(1) .. "," .. #buffer.new(100000)').value, '0,1,100000');
  const r = kernel.exec(`
    local b = buffer.new(5); b[1] = 0; b[2] = 127; b[3] = 128; b[4] = 255; b[5] = 1
    local t = b()
    return type(t) .. ":" .. #t .. ":" .. table.concat(t, ",") .. ":" .. tostring(getmetatable(t)) .. ":" .. #buffer.new(0)()`);
  t.is(r.value, 'table:5:0,127,128,255,1:nil:0');
  t.is(kernel.exec('local t = buffer.new(3)(); t[1] = 9; return t[1]').value, '9', 'a plain, writable table');
});

test('tostring(buf) is readable', (t) => {
  t.is(kernel.exec('return tostring(buffer.new(16))').value, 'buffer: 16 bytes');
  t.is(kernel.exec('return tostring(buffer.new(1))').value, 'buffer: 1 byte');
  t.is(kernel.exec('return tostring(buffer.new(0))').value, 'buffer: 0 bytes');
});

test('buffer.from and tostring round-trip all 256 byte values', (t) => {
  const r = kernel.exec(`
    local chars = {}
    for i = 0, 255 do chars[#chars + 1] = string.char(i) end
    local s = table.concat(chars) .. table.concat(chars)
    local b = buffer.from(s)
    for i = 1, #b do if b[i] ~= (i - 1) % 256 then return "byte " .. i end end
    local ok = #b == 512 and b:tostring() == s and buffer.tostring(b) == s and buffer.from(b):tostring() == s
    return ok and "ok" or "mismatch"`);
  t.is(r.value, 'ok');
  t.is(kernel.exec('return buffer.from(""):tostring() == "" and #buffer.from("") == 0').value, 'true');
  t.is(kernel.exec('local a = buffer.from("ab") local c = buffer.from(a) c[1] = 0x7a return a:tostring() .. c:tostring()').value, 'abzb',
    'buffer.from(buffer) copies');
});

test('a buffer returned by a script is its raw bytes, through sysLua and exec', (t) => {
  const r = sys(kernel, 'local b = buffer.new(256) for i = 1, 256 do b[i] = i - 1 end return b');
  t.is(r.rc, 256);
  t.deepEqual([...r.bytes], Array.from({ length: 256 }, (_, i) => i));
  const truncated = new Uint8Array(4);
  const code = 'return buffer.from("abcdef")';
  t.is(kernel.sysLua(code, code.length, truncated, 4), 6);
  t.deepEqual([...truncated], [0x61, 0x62, 0x63, 0]);
  t.deepEqual(kernel.exec('return buffer.from("hello")'), { rc: 5, value: 'hello' });
  t.deepEqual(kernel.exec('return buffer.new(0)'), { rc: 0, value: '' });
});

test('bad sizes for buffer.new are Lua errors, and the kernel goes on', (t) => {
  const cases: [string, RegExp][] = [
    ['', /bad argument #1 to 'new' \(number expected, got no value\)/],
    ['nil', /bad argument #1 to 'new' \(number expected, got nil\)/],
    ['"16"', /bad argument #1 to 'new' \(number expected, got string\)/],
    ['{}', /bad argument #1 to 'new' \(number expected, got table\)/],
    ['buffer.new(1)', /bad argument #1 to 'new' \(number expected, got lunatik\.buffer\)/],
    ['-1', /bad argument #1 to 'new' \(size must not be negative, got -1\)/],
    ['math.mininteger', /size must not be negative/],
    ['0/0', /bad argument #1 to 'new' \(number has no integer representation\)/],
    ['1.5', /number has no integer representation/],
    ['math.huge', /number has no integer representation/],
    ['-math.huge', /number has no integer representation/],
    ['2^53', /bad argument #1 to 'new' \(size 9007199254740992 is too large/],
    ['math.maxinteger', /size 9223372036854775807 is too large/],
    ['2^31', /size 2147483648 is too large/],
  ];
  for (const [arg, pattern] of cases) assertLuaError(t, kernel, `return buffer.new(${arg})`, pattern);
});

test('sizes beyond the memory budget are -ENOMEM, and the kernel goes on', (t) => {
  const small = Kernel.boot({ memory: { limit: 1 << 20 } });
  for (const n of ['1e9', '2^30', '2^31 - 8192', '(1 << 20) + 1']) {
    const r = sys(small, `return buffer.new(${n})`);
    t.is(r.rc, ENOMEM, `${n}: ${r.text}`);
    assertServes(t, small, n);
  }
  t.is(sys(small, 'return #buffer.new(256 * 1024)').text, '262144', 'what fits, fits');
  // A script can catch the memory error and go on, like any Lua error.
  t.is(small.exec('local ok, e = pcall(buffer.new, 1e9) return tostring(ok) .. " " .. e').value, 'false not enough memory');
});

test('a buffer counts against the budget', (t) => {
  const k = Kernel.boot();
  const before = Number(k.exec('return gc_count()').value);
  const after = Number(k.exec('keep = buffer.new(1 << 20) return gc_count()').value);
  t.true(after - before >= 1024 && after - before < 1024 + 64, `${before} -> ${after} KiB`);
});

test('buffer.from and buffer.tostring reject other types', (t) => {
  assertLuaError(t, kernel, 'return buffer.from()', /bad argument #1 to 'from' \(string expected, got no value\)/);
  assertLuaError(t, kernel, 'return buffer.from(16)', /bad argument #1 to 'from' \(string expected, got number\)/);
  assertLuaError(t, kernel, 'return buffer.from({})', /bad argument #1 to 'from' \(string expected, got table\)/);
  assertLuaError(t, kernel, 'return buffer.from(other())', /bad argument #1 to 'from' \(string expected, got test\.other\)/);
  assertLuaError(t, kernel, 'return buffer.tostring()', /bad argument #1 to 'tostring' \(buffer expected, got no value\)/);
  assertLuaError(t, kernel, 'return buffer.tostring("abc")', /bad argument #1 to 'tostring' \(buffer expected, got string\)/);
});

test('methods reject foreign userdata (luaL_checkudata)', (t) => {
  assertLuaError(t, kernel, 'local b = buffer.new(4) return b.tostring(other())', /bad argument #1 to 'tostring' \(buffer expected, got test\.other\)/);
  assertLuaError(t, kernel, 'return buffer.tostring(other())', /bad argument #1 to 'tostring' \(buffer expected, got test\.other\)/);
  assertLuaError(t, kernel, 'local b = buffer.new(4) return b.tostring({})', /buffer expected, got table/);
  assertLuaError(t, kernel, 'local b = buffer.new(4) return b.tostring()', /buffer expected, got no value/);
});

/** The same kernel with element access served by the JavaScript bindings alone. */
const jsKernel = Kernel.boot({ modules: builtinModules.map((m) => (m.name === 'buffer' ? bufferModule({ fastPath: false }) : m)) });

for (const [path, k] of [['the Wasm fast path', kernel], ['the JavaScript bindings alone', jsKernel]] as const) {
  test(`element access through ${path} agrees with a model of the documented behaviour`, (t) => {
    // Keys and values as Lua source, with what they mean as an index or a byte.
    // `n`: the index it is; `num`: its value as a number key (NaN for keys that are not numbers).
    const key = fc.oneof(
      fc.integer({ min: -3, max: 70 }).map((i) => ({ src: String(i), n: i as number | null, num: i })),
      fc.constantFrom(
        { src: '1.0', n: 1, num: 1 }, { src: '2.5', n: null, num: 2.5 }, { src: '"1"', n: null, num: NaN }, { src: 'true', n: null, num: NaN },
        { src: 'math.maxinteger', n: null, num: 2 ** 63 }, { src: 'math.mininteger', n: null, num: -(2 ** 63) }, { src: '0/0', n: null, num: NaN },
      ),
    );
    const value = fc.oneof(
      fc.integer({ min: -2, max: 258 }).map((v) => ({ src: String(v), v: v >= 0 && v <= 255 ? v : null })),
      fc.constantFrom({ src: '3.0', v: 3 as number | null }, { src: '0.5', v: null }, { src: '"7"', v: null }, { src: '-0.0', v: 0 }),
    );
    const op = fc.oneof(
      fc.record({ kind: fc.constant('get' as const), key }),
      fc.record({ kind: fc.constant('set' as const), key, value }),
    );
    fc.assert(fc.property(fc.integer({ min: 0, max: 64 }), fc.array(op, { maxLength: 40 }), (size, ops) => {
      const model = new Array<number>(size).fill(0);
      const lines = [`local b = buffer.new(${size}) local out = {}`];
      const expected: string[] = [];
      for (const o of ops) {
        const inRange = o.key.n !== null && o.key.n >= 1 && o.key.n <= size;
        if (o.kind === 'get') {
          lines.push(`do local ok, v = pcall(function() return b[${o.key.src}] end) out[#out + 1] = ok and tostring(v) or "E" end`);
          const isString = o.key.src.startsWith('"');
          expected.push(isString || o.key.num > size ? 'nil' : inRange ? String(model[o.key.n! - 1]) : 'E');
        } else {
          lines.push(`do local ok = pcall(function() b[${o.key.src}] = ${o.value.src} end) out[#out + 1] = ok and "ok" or "E" end`);
          if (inRange && o.value.v !== null) {
            model[o.key.n! - 1] = o.value.v;
            expected.push('ok');
          } else expected.push('E');
        }
      }
      lines.push('return table.concat(out, " ") .. "|" .. table.concat(b(), ",")');
      const r = k.exec(lines.join('\n'));
      t.is(r.rc >= 0, true, r.error);
      return r.value === `${expected.join(' ')}|${model.join(',')}`;
    }), { numRuns: 300 });
    t.pass();
  });
}

test('the JavaScript bindings give the same messages as the fast path', (t) => {
  for (const code of ['return b[0]', 'b[3] = 1', 'b[1] = 256', 'b[1.5] = 1', 'return b[{}]', 'b.x = 1', 'return #b .. b[2] .. tostring(b.nosuch)', 'return b:tostring()']) {
    const setup = 'b = buffer.from("\\1\\2")\n';
    t.deepEqual(jsKernel.exec(setup + code), kernel.exec(setup + code), code);
  }
});

test('the image passes the fast path\'s layout self-test', (t) => {
  const { image } = machineOf(kernel);
  const noop = () => 0;
  const access = instantiateBufferAccess(image, { index: noop, newindex: noop, notbuffer: noop });
  t.not(access.index, null);
  t.not(access.newindex, null);
  t.false(kernel.dmesg().some((r) => r.text.includes('stack layout')), 'no fallback warning at boot');
});

test('the layout self-test fails closed, and gives its table slot back', (t) => {
  const { image } = machineOf(kernel);
  const { api } = image;
  const pushing = (v: bigint) => wasmFunction(SIG_LUA_CFUNCTION, (L: number) => {
    api.lua_pushinteger(L, v);
    return 1;
  });
  const raising = wasmFunction(SIG_LUA_CFUNCTION, (L: number) => {
    api.lua_pushstring(L, image.cstring('no'));
    return api.lua_error(L);
  });
  const slots = tableSlots(kernel);
  t.true(layoutHolds(image, pushing(1n)), 'the plumbing: a test that answers 1 passes');
  t.false(layoutHolds(image, pushing(0n)));
  t.false(layoutHolds(image, pushing(2n)));
  t.false(layoutHolds(image, raising));
  t.deepEqual(tableSlots(kernel), slots);
  assertServes(t, kernel);
});

test('the host reads a buffer\'s bytes in place (bufferBytes), and writes through the view', (t) => {
  const k = Kernel.boot();
  let seen: { sameMemory: boolean; bytes: number[] } | undefined;
  const probe: LunatikModule = {
    name: 'probe',
    depends: ['buffer'],
    init(ctx) {
      ctx.function('inspectbuf', (lua, L) => {
        const view = bufferBytes(lua, L, 1);
        seen = { sameMemory: view.buffer === lua.image.api.memory.buffer, bytes: [...view] };
        view[0] = 0x42; // the script sees this: it is the buffer itself
        return 0;
      });
      ctx.function('addressof', (lua, L) => {
        lua.pushInteger(L, checkBuffer(lua, L, 1));
        return 1;
      });
    },
  };
  t.is(k.insmod(probe), 0);
  t.is(k.exec('b = buffer.from("\\1\\2\\3") inspectbuf(b) return b[1]').value, '66');
  t.deepEqual(seen, { sameMemory: true, bytes: [1, 2, 3] });
  assertLuaError(t, k, 'inspectbuf({})', /bad argument #1 to 'inspectbuf' \(buffer expected, got table\)/);
  t.is(k.exec('return addressof(b) == addressof(b)').value, 'true');
});

test('errors from a script never reach the host as exceptions', (t) => {
  const k = Kernel.boot();
  for (const code of ['buffer.new(4)[5] = 1', 'return buffer.new(-5)', 'return buffer.new(2)[{}]', 'buffer.new(1)[1] = 300']) {
    t.notThrows(() => sys(k, code));
    t.is(sys(k, code).rc, ECANCELED);
  }
  assertServes(t, k);
});
