// Lua's own error messages: functions called from C are named as Lua names them (the kernel
// fills registry._LOADED), and the functions the kernel wraps keep their names and the
// caller's `chunk:line:` prefix. Cases from the official test suite (errors.lua), checked
// against fixed text and, where lua5.4 is installed, against what it prints.
import test from 'ava';
import { spawnSync } from 'node:child_process';
import { Kernel, errno } from '../../src/index.js';
import { crypto } from '../../src/bindings/crypto.js';

const LUA = '/usr/bin/lua5.4';
const luaInstalled = spawnSync(LUA, ['-v']).status === 0;

/** Code that raises at top level, and the message Lua 5.4 gives for it (chunk `(command line)`, as `lua -e`). */
const CASES: readonly [code: string, message: string][] = [
  ['error(select(2, pcall(string.rep)), 0)', "bad argument #1 to 'string.rep' (string expected, got no value)"],
  ['table.sort({1,2,3}, table.sort)', "bad argument #1 to 'table.sort' (table expected, got number)"],
  ["string.gsub('s', 's', setmetatable)", "bad argument #1 to 'setmetatable' (table expected, got string)"],
  ['rawset(1)', "(command line):1: bad argument #1 to 'rawset' (table expected, got number)"],
  ['load(nil)', "(command line):1: bad argument #1 to 'load' (function expected, got nil)"],
  ['error(select(2, pcall(rawset, {})), 0)', "bad argument #2 to 'rawset' (value expected)"],
  ["load('x', {})", "(command line):1: bad argument #2 to 'load' (string expected, got table)"],
  ["load('x', nil, {})", "(command line):1: bad argument #3 to 'load' (string expected, got table)"],
  ['local t = setmetatable({}, {__index = math.floor}) return t.x', "(command line):1: bad argument #1 to 'index' (number expected, got table)"],
];

const kernel = Kernel.boot();
test.after.always(() => kernel.shutdown());

for (const [code, message] of CASES) {
  test(`message of ${code}`, (t) => {
    const r = kernel.exec(code, { name: '(command line)' });
    t.is(r.rc, -errno.ECANCELED);
    t.is(r.error, message);
  });
}

test('the same messages as lua5.4 prints', (t) => {
  if (!luaInstalled) {
    t.log(`SKIPPED: ${LUA} is not installed; the fixed expectations above still ran`);
    t.pass();
    return;
  }
  for (const [code] of CASES) {
    const lua = spawnSync(LUA, ['-e', code], { encoding: 'utf8' });
    const luaMessage = lua.stderr.split('\n')[0]!.replace(/^[^:]*lua5\.4: /, '');
    t.is(kernel.exec(code, { name: '(command line)' }).error, luaMessage, code);
  }
});

test('module libraries are named too, also after an rmmod/insmod cycle', (t) => {
  const k = Kernel.boot();
  const message = 'return select(2, pcall(crypto.sha1))';
  t.is(k.exec(message).value, "bad argument #1 to 'crypto.sha1' (buffer or string expected, got no value)");
  t.is(k.rmmod('crypto'), 0);
  t.is(k.insmod(crypto), 0);
  t.is(k.exec(message).value, "bad argument #1 to 'crypto.sha1' (buffer or string expected, got no value)");
  t.deepEqual(k.shutdown().leaks, []);
});

test('wrapped rawset and load still do their job after their checks', (t) => {
  t.is(kernel.exec('local t = {} rawset(t, "k", 1) return t.k').value, '1');
  t.is(kernel.exec('return load("return 2")()').value, '2');
  t.is(kernel.exec('return load(12)').value, '', 'a number is loaded as its text, which does not compile: nil');
  t.is(kernel.exec('return select(2, pcall(rawset, string, "x", 1))').value, 'attempt to modify a read-only table');
});

test('{ traceback: true } gives luaL_traceback at the error, leaving the message and errno alone', (t) => {
  const code = 'local function g() error("boom") end\ng()';
  const plain = kernel.exec(code, { name: 'x.lua' });
  t.is(plain.traceback, undefined);
  const traced = kernel.exec(code, { name: 'x.lua', traceback: true });
  t.deepEqual({ rc: traced.rc, error: traced.error }, { rc: plain.rc, error: 'x.lua:1: boom' });
  t.is(traced.traceback, "stack traceback:\n\t[C]: in function 'error'\n\tx.lua:1: in local 'g'\n\tx.lua:2: in main chunk");

  t.is(kernel.exec('return 1 +', { traceback: true }).traceback, undefined, 'a syntax error has no stack');
  t.is(kernel.exec('return 1', { traceback: true }).value, '1');

  const memory = Kernel.boot({ memory: { limit: 1024 * 1024 } });
  const bomb = memory.exec('local s = "x" while true do s = s .. s end', { traceback: true });
  t.is(bomb.rc, -errno.ENOMEM);
  const rethrown = memory.exec('local ok, e = pcall(function() local s = "x" while true do s = s .. s end end) error(e, 0)', { traceback: true });
  t.is(rethrown.rc, -errno.ENOMEM, 'a rethrown memory error is still ENOMEM');
  t.is(rethrown.error, 'not enough memory');
  t.deepEqual(memory.shutdown().leaks, []);
});
