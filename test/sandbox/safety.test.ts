// DESIGN.md's safety rules: text-only loading, collectgarbage("count") only, library
// tables and the string metatable that cannot be changed, print/warn into the kernel log,
// isolate mode, an image that cannot reach files, processes or the environment even with
// the whole standard library opened, and panics or traps that never take the process down.
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { Kernel, errno } from '../../src/index.js';
import { installKernelFunctions } from '../../src/sandbox/kernel-functions.js';
import { KernelLog } from '../../src/sandbox/klog.js';
import { LuaImage } from '../../wasm/instance.js';
import { LuaStrings } from '../../wasm/lua-strings.js';
import { ImagePanic } from '../../wasm/syscall-table.js';
import { assertServes, call, luaBytecode } from './helpers.js';

const ECANCELED = -errno.ECANCELED;

/** Lua source for the byte string `bytes`. */
const luaString = (bytes: Uint8Array) => `"${[...bytes].map((b) => `\\${b}`).join('')}"`;

// ---------------------------------------------------------------- text-only load

test('load refuses binary chunks whatever mode the script asks for', async (t) => {
  const k = Kernel.boot();
  const bin = await luaBytecode();
  t.is(call(k, `bin = ${luaString(bin)} return #bin`).text, String(bin.length));
  const attempts = [
    'return load(bin)',
    'return load(bin, nil, "b")',
    'return load(bin, "x", "bt", {})',
    'return load(bin, "x", "b", _ENV)',
    'return load(bin, nil, nil)',
    'return load(bin, "=c", {})',
    'return (function(...) return load(...) end)(bin, nil, "b")',
    'local l = load return l(bin, nil, "b")',
    'return _G.load(bin, nil, "bt")',
    'return select(2, pcall(load, bin, nil, "b"))',
    'return select(2, xpcall(load, print, bin, nil, "b"))',
    'return coroutine.wrap(load)(bin, nil, "b")',
    // A reader function that hands the chunk over in pieces.
    'local i = 0 return load(function() i = i + 1 return bin:sub(i, i) end, "reader", "b")',
    'local parts = { bin:sub(1, 5), bin:sub(6) } local i = 0 return load(function() i = i + 1 return parts[i] end, nil, "bt")',
  ];
  for (const attempt of attempts) {
    // The first value is nil, or the function never ran: either way no chunk came back.
    const r = k.exec(`local f, err = (function() ${attempt} end)() return tostring(f) .. "|" .. tostring(err)`);
    t.is(r.rc >= 0, true, attempt);
    t.regex(r.value ?? '', /^(nil|false)\|.*binary chunk/, attempt);
  }
  // And never by accident: the result of a refused load cannot be called.
  t.is(k.exec('local f = load(bin, nil, "b") return type(f)').value, 'nil');
  assertServes(t, k);
});

test('load still loads text, with chunk names and environments', (t) => {
  const k = Kernel.boot();
  t.is(k.exec('return load("return 1 + 1")()').value, '2');
  t.is(k.exec('return load("return x", "=env", "t", { x = 5 })()').value, '5');
  t.is(k.exec('return load("return x", "=env", "bt", { x = 6 })()').value, '6');
  t.regex(k.exec('return select(2, load("x =", "=mychunk"))').value!, /^mychunk:1: /);
  t.is(k.exec('local parts = { "return ", "4", "2" } local i = 0 return load(function() i = i + 1 return parts[i] end)()').value, '42');
  t.is(k.exec('return load("return ...")(7, 8)').value, '7');
});

test('sysLua itself refuses genuine bytecode (-ENOEXEC)', async (t) => {
  const k = Kernel.boot();
  const bin = await luaBytecode();
  const r = call(k, bin);
  t.is(r.rc, -errno.ENOEXEC);
  t.regex(r.text, /binary chunk/);
});

// ---------------------------------------------------------------- collectgarbage

test('collectgarbage answers only "count"', (t) => {
  const k = Kernel.boot();
  const count = k.exec('local c = collectgarbage("count") return math.type(c) == "float" and c > 0');
  t.is(count.value, 'true');
  for (const option of ['', '"collect"', '"stop"', '"restart"', '"step"', '"step", 100', '"isrunning"', '"incremental"',
    '"generational"', '"setpause", 100', '"setstepmul", 100', 'nil', '123', '{}']) {
    const r = k.exec(`collectgarbage(${option})`);
    t.is(r.rc, ECANCELED, option);
    t.regex(r.error!, /not allowed/, option);
    t.is(k.exec(`return (pcall(collectgarbage${option ? `, ${option}` : ''}))`).value, 'false', `${option} through pcall`);
  }
  assertServes(t, k);
});

// ---------------------------------------------------------------- libraries and the string metatable

test('the string metatable is hidden and cannot be replaced', (t) => {
  const k = Kernel.boot();
  t.not(k.exec('return type(getmetatable(""))').value, 'table');
  t.is(k.exec('return getmetatable("").__index').rc, ECANCELED);
  t.is(k.exec('setmetatable("", {})').rc, ECANCELED);
  t.is(k.exec('return ("x"):rep(2)').value, 'xx');
});

test('library tables cannot be changed; the next call still has the real functions', (t) => {
  const k = Kernel.boot();
  const tamper = [
    'string.x = 1',
    'rawset(string, "x", 1)',
    'table.insert(string, 1)',
    'table.insert(string, 1, "x")',
    'table.move({ 1, 2 }, 1, 2, 1, string)',
    'setmetatable(string, {})',
    'setmetatable(string, nil)',
    'string.rep = function() return "pwned" end',
    'rawset(string, "rep", function() return "pwned" end)',
    'string.dump = print',
    'math.floor = nil',
    'rawset(math, "pi", 3)',
    'math.huge = 0',
    'coroutine.wrap = print',
    'utf8.char = nil',
    'table.concat = nil',
    'setmetatable(table, nil)',
    'getmetatable(math).__index = {}',
    'getmetatable(string).__newindex = rawset',
  ];
  for (const code of tamper) {
    t.is(k.exec(code).rc, ECANCELED, code);
    const after = k.exec(`return ("x"):rep(2) .. string.rep("y", 2) .. tostring(string.x) .. tostring(rawget(string, "x"))
      .. math.floor(1.5) .. tostring(math.pi > 3.14) .. tostring(math.huge) .. type(coroutine.wrap) .. utf8.char(65)
      .. table.concat({ "a", "b" }) .. type(string.dump)`);
    t.is(after.value, 'xxyynilnil1trueinffunctionAabnil', `after ${code}`);
  }
  t.is(k.exec('return getmetatable(string)').value, 'false', 'library metatables are protected');
});

test('replacing a library global does not reach string methods, and stays the script\'s own global', (t) => {
  const k = Kernel.boot();
  t.is(k.exec('string = nil').rc, 0);
  t.is(k.exec('return ("x"):rep(3)').value, 'xxx');
  t.is(k.exec('string = { rep = function() return "pwned" end } return ("x"):rep(3)').value, 'xxx');
  const iso = Kernel.boot({ isolate: true });
  t.is(iso.exec('string = nil math = nil').rc, 0);
  t.is(iso.exec('return string.rep("x", 2) .. math.floor(2.5)').value, 'xx2');
});

// ---------------------------------------------------------------- print and warn

/** Runs `fn` while counting writes to the process's stdout and stderr. */
function countingStdio<T>(fn: () => T): [T, number] {
  let writes = 0;
  const out = process.stdout.write;
  const err = process.stderr.write;
  process.stdout.write = ((...args: unknown[]) => { writes++; return (out as (...a: unknown[]) => boolean).apply(process.stdout, args); }) as typeof out;
  process.stderr.write = ((...args: unknown[]) => { writes++; return (err as (...a: unknown[]) => boolean).apply(process.stderr, args); }) as typeof err;
  try {
    return [fn(), writes];
  } finally {
    process.stdout.write = out;
    process.stderr.write = err;
  }
}

test('print and warn go to the kernel log, never to the process', (t) => {
  const k = Kernel.boot();
  const [, writes] = countingStdio(() => {
    k.exec('print("a", 1, nil, true, 1.5, setmetatable({}, { __tostring = function() return "obj" end }))');
    k.exec('print()');
    k.exec('warn("one ", "two")');
    k.exec('warn("@on") warn("@off")');
    k.exec('warn("after off")');
  });
  t.is(writes, 0);
  const texts = k.dmesg().map((r) => r.text);
  t.deepEqual(texts.slice(0, 2), ['a\t1\tnil\ttrue\t1.5\tobj', '']);
  t.true(texts.some((s) => /one two/.test(s)));
  t.false(texts.some((s) => /@on|@off/.test(s)), 'control messages are not logged');
  t.is(k.exec('warn({})').rc, ECANCELED, 'warn wants strings');
  t.is(k.exec('print(setmetatable({}, { __tostring = function() error("bad tostring") end }))').rc, ECANCELED);
  assertServes(t, k);
});

test('Lua\'s own warnings (an error in a __gc metamethod) reach the kernel log', (t) => {
  const iso = Kernel.boot({ isolate: true });
  const [, writes] = countingStdio(() => {
    iso.exec('setmetatable({}, { __gc = function() error("gc boom") end })');
    iso.exec('return 1');
  });
  const persistent = Kernel.boot();
  persistent.exec('keep = setmetatable({}, { __gc = function() print("finalized at shutdown") error("gc boom 2") end })');
  t.deepEqual(persistent.shutdown().leaks, []);
  t.is(writes, 0);
  t.true(persistent.dmesg().some((r) => r.text === 'finalized at shutdown'));
  t.true(persistent.dmesg().some((r) => /gc boom 2/.test(r.text)), 'the __gc error is a warning');
  // In isolate mode the state of the first call is discarded; its finalizer may or may not
  // run (the pool can drop a state whole), but nothing reaches the process and the kernel serves.
  assertServes(t, iso);
});

// ---------------------------------------------------------------- isolate

test('isolate gives every call a fresh state; the default kernel keeps globals', (t) => {
  const iso = Kernel.boot({ isolate: true });
  t.is(iso.exec('x = 1 return x').value, '1');
  t.is(iso.exec('return x').rc, 0, 'x is nil in the next call');
  t.is(iso.exec('return type(x)').value, 'nil');
  const per = Kernel.boot();
  t.is(per.exec('x = 1').rc, 0);
  t.is(per.exec('return x').value, '1');
  t.is(per.exec('x = x + 1 return x').value, '2');
  t.is(Kernel.boot().exec('return type(x)').value, 'nil', 'kernels share nothing');
});

// ---------------------------------------------------------------- no way to the host

test('io, os, package, require, dofile, loadfile and debug are unreachable from a script', (t) => {
  const k = Kernel.boot();
  const probes = [
    'return io', 'return os', 'return package', 'return debug', 'return require', 'return dofile', 'return loadfile',
    'return rawget(_G, "io")', 'return _ENV.os', 'return load("return os")()', 'return load("return io", "x", "t", _G)()',
    'return string.dump', 'return ("").dump',
  ];
  for (const probe of probes) t.is(k.exec(probe).rc, 0, probe);
  for (const probe of ['require("io")', 'package.loaded.io.open("x")', 'io.open("/etc/passwd")', 'os.execute("id")',
    'dofile("/etc/passwd")', 'loadfile("/etc/passwd")', 'debug.getregistry()', 'getmetatable("").__index.dump(print)']) {
    t.is(k.exec(probe).rc, ECANCELED, probe);
  }
});

/** A raw image with our import table and the *whole* standard library opened: a deliberate mistake in the library set. */
function rawImageWithAllLibraries() {
  const console: string[] = [];
  const image = LuaImage.instantiate({
    console: (fd, bytes) => console.push(`${fd}:${Buffer.from(bytes).toString()}`),
    maxMemoryBytes: 256 * 1024 * 1024,
  });
  const strings = new LuaStrings(image);
  const api = image.api as typeof image.api & { luaL_openlibs(L: number): void };
  const L = api.luaL_newstate();
  api.luaL_openlibs(L);
  const run = (code: string): { status: number; text: string } => {
    const [ptr, len] = strings.encodeIn(code);
    let status = api.luaL_loadbufferx(L, ptr, len, image.cstring('=raw'), image.cstring('t'));
    if (status === 0) status = api.lua_pcallk(L, 0, 1, 0, 0, 0);
    const text = image.readCString(api.luaL_tolstring(L, -1, strings.outSlot));
    api.lua_settop(L, 0);
    return { status, text };
  };
  return { run, console };
}

test('the image cannot touch files, processes, the environment or the clock, even with io and os opened', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'lunatik-safety-'));
  try {
    const existing = join(dir, 'existing.txt');
    writeFileSync(existing, 'secret');
    const created = join(dir, 'created.txt');
    const { run, console } = rawImageWithAllLibraries();
    const lua = (s: string) => JSON.stringify(s);
    const [, writes] = countingStdio(() => {
      t.is(run(`return io.open(${lua(existing)})`).text, 'nil', 'no file can be opened');
      t.is(run(`return (io.open(${lua(created)}, "w"))`).text, 'nil', 'no file can be created');
      t.is(run(`return (os.remove(${lua(existing)}))`).text, 'nil');
      t.is(run(`return (os.rename(${lua(existing)}, ${lua(created)}))`).text, 'nil');
      t.not(run(`return os.execute("echo pwned > ${created}")`).text, 'true');
      t.is(run('return os.execute()').text, 'false', 'no shell');
      t.is(run('return os.getenv("PATH")').text, 'nil', 'no environment');
      t.is(run('return os.getenv("HOME")').text, 'nil');
      t.is(run('return os.time()').text, '0', 'no host clock');
      t.is(run('return io.read()').text, 'nil', 'no stdin');
      t.not(run('return io.popen("id")').status, 0);
      t.not(run(`return io.lines(${lua(existing)})`).status, 0);
      t.not(run('return os.tmpname()').status, 0);
      t.is(run('return (loadfile("/etc/passwd"))').text, 'nil');
      t.is(run('return (package.loadlib("libc.so.6", "system"))').text, 'nil');
      t.is(run('io.write("to stdout") io.stdout:flush() io.stderr:write("to stderr") return 1').text, '1');
    });
    t.is(writes, 0, 'stdout and stderr of the image are not the process\'s');
    t.true(console.includes('1:to stdout') && console.includes('2:to stderr'), 'they reach the host callback only');
    t.is(readFileSync(existing, 'utf8'), 'secret');
    t.false(existsSync(created));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

// ---------------------------------------------------------------- panics and traps

test('exit() and abort() inside the image become an ImagePanic, not a process exit', (t) => {
  const { run } = rawImageWithAllLibraries();
  const e = t.throws(() => run('os.exit(3)'), { instanceOf: ImagePanic });
  t.regex(e!.message, /exit\(3\)/);
  t.throws(() => run('os.exit(true, true)'), { instanceOf: ImagePanic });
});

test('a real Lua panic (an error outside any protected call) raises ImagePanic through the kernel\'s panic handler', (t) => {
  const image = LuaImage.instantiate({ console: () => undefined, maxMemoryBytes: 64 * 1024 * 1024 });
  const strings = new LuaStrings(image);
  const noLimits: Parameters<typeof installKernelFunctions>[3] = { onNewThread: () => undefined, limitExceeded: () => false };
  const fns = installKernelFunctions(image, strings, new KernelLog(), noLimits);
  const { api } = image;
  const L = api.luaL_newstate();
  api.lua_atpanic(L, fns.panic);
  strings.pushString(L, 'unprotected boom');
  const e = t.throws(() => api.lua_error(L), { instanceOf: ImagePanic });
  t.regex(e!.message, /Lua panic: unprotected boom/);
  // Without our handler, Lua's default panic calls abort(): still only an exception.
  const L2 = api.luaL_newstate();
  strings.pushString(L2, 'default panic');
  t.throws(() => api.lua_error(L2), { instanceOf: ImagePanic });
});

/**
 * Makes the next kernel-log write (print's) throw `error` from inside the running script:
 * a stand-in for a trap or a broken host function in the middle of Lua code.
 */
function failNextLogWrite(k: Kernel, error: () => unknown): void {
  const log = k.log as { write: (level: number, text: string) => void };
  const original = log.write;
  log.write = function (this: unknown) {
    log.write = original;
    throw error();
  };
}

test('a trap in the middle of a script discards the state; the kernel boots a new one and serves', (t) => {
  const k = Kernel.boot();
  t.is(k.exec('kept = 1').rc, 0);
  failNextLogWrite(k, () => new WebAssembly.RuntimeError('unreachable executed'));
  const r = call(k, 'print("x") return "not reached"');
  t.is(r.rc, ECANCELED);
  t.regex(r.text, /kernel panic/);
  t.true(k.dmesg().some((rec) => rec.level === 0 && /kernel panic/.test(rec.text)), 'KERN_EMERG record');
  assertServes(t, k, 'after the trap');
  t.is(k.exec('return kept').rc, 0, 'a new state: the old globals are gone');
  t.deepEqual(k.shutdown().leaks, []);
});

test('a JS stack overflow inside a host function is fatal to the state (-ENOMEM), not to the process', (t) => {
  const k = Kernel.boot();
  failNextLogWrite(k, () => {
    const recurse = (n: number): number => recurse(n + 1) + 1;
    try {
      return recurse(0);
    } catch (e) {
      return e;
    }
  });
  const r = call(k, 'print("x")');
  t.is(r.rc, -errno.ENOMEM);
  t.regex(r.text, /kernel panic: the host JavaScript stack/);
  assertServes(t, k);
});

test('an ordinary exception from host code is a Lua error: catchable, and the state survives', (t) => {
  const k = Kernel.boot();
  t.is(k.exec('kept = 1').rc, 0);
  failNextLogWrite(k, () => new Error('host broke'));
  t.is(k.exec('local ok, err = pcall(print, "x") return tostring(ok) .. " " .. err').value, 'false host broke');
  failNextLogWrite(k, () => new TypeError('host broke again'));
  const r = call(k, 'print("x")');
  t.is(r.rc, ECANCELED);
  t.regex(r.text, /host broke again/);
  t.is(k.exec('return kept').value, '1', 'the state was kept');
  t.false(k.dmesg().some((rec) => /kernel panic/.test(rec.text)));
});

test('calls made at the edge of the JS stack never leave the kernel broken', (t) => {
  const k = Kernel.boot();
  t.is(k.exec('kept = 1').rc, 0);
  const seen = new Set<number>();
  const code = 'local t = {} for i = 1, 20 do t[i] = tostring(i) end return #t';
  const size = Buffer.byteLength(code);
  const buf = new Uint8Array(8);
  const dive = (): void => {
    let rc: number;
    try {
      rc = k.sysLua(code, size, buf, 8);
    } catch {
      return; // the stack ran out in this frame: the caller's problem, as for any function
    }
    seen.add(rc);
    try {
      dive();
    } catch {
      // out of stack below
    }
  };
  // A few extra frames first shift where, inside sysLua, the stack runs out.
  const nest = (n: number): void => (n === 0 ? dive() : nest(n - 1));
  for (let round = 0; round < 6; round++) nest(round);
  t.true([...seen].every((rc) => rc === 2 || rc === -errno.ENOMEM), `rcs: ${[...seen].join(', ')}`);
  assertServes(t, k, 'after the dives');
});
