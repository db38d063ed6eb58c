// buffer and crypto as loadable modules: loaded by default in dependency order, crypto
// depending on buffer (LUNATIK_CRYPTO selects LUNATIK_BUFFER), removal taking their
// globals away, and 10,000 load/unload cycles leaving no Lua memory and no function-table
// slots behind.
import test from 'ava';
import { Kernel, errno } from '../../src/index.js';
import { buffer } from '../../src/bindings/buffer.js';
import { crypto } from '../../src/bindings/crypto.js';
import { assertLuaError, assertServes, liveBytes, tableSlots } from './helpers.js';

test('buffer and crypto load by default, before printk and inspect', (t) => {
  const k = Kernel.boot();
  t.deepEqual(k.lsmod().map((m) => m.name), ['buffer', 'crypto', 'printk', 'inspect']);
  t.deepEqual(k.lsmod().find((m) => m.name === 'crypto')!.depends, ['buffer']);
  t.deepEqual(k.lsmod().find((m) => m.name === 'buffer')!.users, ['crypto']);
  t.is(k.exec('return type(buffer.new) .. type(buffer.from) .. type(buffer.tostring) .. type(crypto.sha1) .. type(crypto.random)').value,
    'functionfunctionfunctionfunctionfunction');
});

test('the library tables are read-only', (t) => {
  const k = Kernel.boot();
  assertLuaError(t, k, 'buffer.new = nil', /read-only/);
  assertLuaError(t, k, 'crypto.sha1 = print', /read-only/);
  assertLuaError(t, k, 'rawset(buffer, "x", 1)', /read-only/);
});

test('crypto depends on buffer: -EBUSY and -ENOENT', (t) => {
  const k = Kernel.boot();
  t.is(k.rmmod('buffer'), -errno.EBUSY);
  t.is(k.exec('return #buffer.new(3)').value, '3', 'still loaded after -EBUSY');
  t.is(k.rmmod('crypto'), 0);
  t.is(k.rmmod('buffer'), 0);
  t.is(k.insmod(crypto), -errno.ENOENT);
  t.false(k.lsmod().some((m) => m.name === 'crypto'));
  t.is(k.insmod(buffer), 0);
  t.is(k.insmod(buffer), -errno.EEXIST);
  t.is(k.insmod(crypto), 0);
  t.is(k.exec('return #crypto.sha1("x")').value, '20');
});

test('a kernel booted without crypto has buffer alone; crypto alone cannot boot', (t) => {
  const k = Kernel.boot({ modules: [buffer] });
  t.is(k.exec('return tostring(crypto) .. " " .. #buffer.new(2)').value, 'nil 2');
  t.throws(() => Kernel.boot({ modules: [crypto] }), { message: /ENOENT/ });
});

test('removing the modules removes their globals; surviving buffers fail cleanly until buffer is back', (t) => {
  const k = Kernel.boot();
  t.is(k.exec('keep = buffer.from("abc") return #keep').value, '3');
  t.is(k.rmmod('crypto'), 0);
  t.is(k.rmmod('buffer'), 0);
  t.is(k.exec('return tostring(buffer) .. " " .. tostring(crypto)').value, 'nil nil');
  assertLuaError(t, k, 'return keep[1]', /attempt to call a function of a removed module/);
  assertLuaError(t, k, 'keep[1] = 1', /attempt to call a function of a removed module/);
  assertLuaError(t, k, 'return #keep', /attempt to call a function of a removed module/);
  // No longer a buffer result: its __tostring is the removed module's stub, which raises.
  t.deepEqual(k.exec('return keep'), { rc: -errno.ECANCELED, error: 'attempt to call a function of a removed module' });
  t.is(k.insmod(buffer), 0);
  // The old buffer's metamethods live in the same function-table slots, defined again.
  t.is(k.exec('keep[1] = 0x41 return keep[1] .. " " .. #keep .. " " .. keep:tostring() .. " " .. tostring(keep)').value,
    '65 3 Abc buffer: 3 bytes');
  t.is(k.exec('return buffer.tostring(keep) .. buffer.from(keep):tostring()').value, 'AbcAbc', 'and it is still a buffer to the functions');
  t.deepEqual(k.exec('return keep'), { rc: 3, value: 'Abc' }, 'and a buffer result: its raw bytes');
  t.is(k.insmod(crypto), 0);
  t.is(k.exec('return crypto.sha1(keep):tostring() == crypto.sha1("Abc"):tostring()').value, 'true');
});

test('10,000 load/unload cycles leak no Lua memory and no function-table slots', (t) => {
  const k = Kernel.boot();
  const cycle = (n: number) => {
    for (let i = 0; i < n; i++) {
      if (k.rmmod('crypto') !== 0 || k.rmmod('buffer') !== 0) throw new Error('rmmod failed');
      if (k.insmod(buffer) !== 0 || k.insmod(crypto) !== 0) throw new Error('insmod failed');
    }
  };
  const use = 'local b = crypto.random(64) b[1] = 1 return #crypto.sha1(buffer.from(b:tostring())) + b[1] + #b()';
  t.is(k.exec(use).value, '85');
  // The first cycles define the keyed slots and let the state's tables reach their steady
  // sizes (when a table rehashes depends on Lua's string-hash seed, i.e. on addresses).
  cycle(1000);
  t.is(k.exec(use).value, '85'); // measured as after the cycles: a module used once since loaded
  const gcCount = Number(k.exec('return gc_count()').value);
  const slots = tableSlots(k);
  const bytes = liveBytes(k);
  cycle(9000);
  t.is(k.exec(use).value, '85', 'still works');
  t.deepEqual(tableSlots(k), slots, 'function table: same length, same live slots');
  const after = liveBytes(k);
  // A collection's own call records (CallInfo, freed by halves at each cycle) move the figure
  // by a few hundred bytes either way; a leak of one byte per cycle would be 9,000.
  t.true(after <= bytes + 1024, `Lua memory after a full collection: ${bytes} -> ${after} bytes`);
  t.true(Number(k.exec('return gc_count()').value) <= gcCount + 1, 'gc_count flat');
  assertServes(t, k);
});
