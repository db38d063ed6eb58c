// The inventory, as Mozilla's lua_sandbox keeps one: the exact set of global names and of
// each library's names, both ways (nothing missing, nothing extra), computed by a Lua
// script inside the sandbox. The expected lists are written from the Lua 5.4 reference
// manual (§6) minus what DESIGN.md's safety rules remove: io, os, package, require,
// dofile, loadfile, debug and string.dump.
import test from 'ava';
import { Kernel } from '../../src/index.js';

/** §6.1 basic functions, minus dofile, loadfile and require (package); plus the five libraries kept. */
const BASE_GLOBALS = [
  '_G', '_VERSION', 'assert', 'collectgarbage', 'error', 'getmetatable', 'ipairs', 'load', 'next', 'pairs', 'pcall',
  'print', 'rawequal', 'rawget', 'rawlen', 'rawset', 'select', 'setmetatable', 'tonumber', 'tostring', 'type', 'warn',
  'xpcall',
  'coroutine', 'math', 'string', 'table', 'utf8',
];

/**
 * Globals that lunatik-ng's modules add (lunatik_buffer, lunatik_crypto, lunatik_printk,
 * lunatik_inspect). Each is expected only if the default kernel has it; a module that adds
 * any other global makes this test fail until its names are listed here.
 */
const MODULE_GLOBALS = ['buffer', 'crypto', 'printk', 'gc_count'];

/** Names that must never be reachable, whatever modules are loaded. */
const FORBIDDEN_GLOBALS = ['io', 'os', 'package', 'require', 'dofile', 'loadfile', 'debug', 'loadstring', 'module', 'unpack', 'setfenv', 'getfenv', 'newproxy', 'gcinfo'];

/** §6.2, §6.4, §6.5, §6.6, §6.7 (string.dump removed). Constants included (math.pi, utf8.charpattern, ...). */
const LIBRARIES: Record<string, string[]> = {
  coroutine: ['close', 'create', 'isyieldable', 'resume', 'running', 'status', 'wrap', 'yield'],
  table: ['concat', 'insert', 'move', 'pack', 'remove', 'sort', 'unpack'],
  string: [
    'byte', 'char', 'find', 'format', 'gmatch', 'gsub', 'len', 'lower', 'match', 'pack', 'packsize', 'rep', 'reverse',
    'sub', 'unpack', 'upper',
  ],
  math: [
    'abs', 'acos', 'asin', 'atan', 'ceil', 'cos', 'deg', 'exp', 'floor', 'fmod', 'huge', 'log', 'max', 'maxinteger', 'min',
    'mininteger', 'modf', 'pi', 'rad', 'random', 'randomseed', 'sin', 'sqrt', 'tan', 'tointeger', 'type', 'ult',
  ],
  utf8: ['char', 'charpattern', 'codepoint', 'codes', 'len', 'offset'],
};

/** Library fields that are values, not functions. */
const CONSTANTS: Record<string, Record<string, string>> = {
  math: { huge: 'number', maxinteger: 'number', mininteger: 'number', pi: 'number' },
  utf8: { charpattern: 'string' },
};

const sorted = (names: Iterable<string>) => [...names].sort();

/** `name:type` for every key of `expr`, iterated with pairs (library proxies answer through __pairs). */
function inventory(kernel: Kernel, expr: string): Map<string, string> {
  const r = kernel.exec(`
    local out = {}
    for k, v in pairs(${expr}) do out[#out + 1] = tostring(k) .. ":" .. type(v) end
    table.sort(out)
    return table.concat(out, " ")`);
  if (r.rc < 0) throw new Error(`inventory of ${expr} failed: ${r.error}`);
  return new Map(r.value!.split(' ').filter(Boolean).map((entry) => entry.split(':') as [string, string]));
}

/** The module globals the default kernel has, checked one by one (independent of pairs). */
function presentModuleGlobals(): string[] {
  const kernel = Kernel.boot();
  try {
    return MODULE_GLOBALS.filter((name) => kernel.exec(`return rawget(_G, "${name}") ~= nil`).value === 'true');
  } finally {
    kernel.shutdown();
  }
}

test('globals: exactly the Lua 5.4 base set minus the removed names, plus the listed module globals', (t) => {
  const kernel = Kernel.boot();
  const actual = inventory(kernel, '_G');
  const expected = [...BASE_GLOBALS, ...presentModuleGlobals()];
  const missing = expected.filter((name) => !actual.has(name));
  const extra = [...actual.keys()].filter((name) => !expected.includes(name));
  t.deepEqual(missing, [], 'nothing missing');
  t.deepEqual(extra, [], 'nothing extra (a new module global must be added to MODULE_GLOBALS)');
  t.deepEqual(sorted(actual.keys()), sorted(expected));
});

test('globals: the value kinds are the manual\'s', (t) => {
  const actual = inventory(Kernel.boot(), '_G');
  for (const name of BASE_GLOBALS) {
    const want = name === '_VERSION' ? 'string' : name === '_G' || name in LIBRARIES ? 'table' : 'function';
    t.is(actual.get(name), want, name);
  }
  const kernel = Kernel.boot();
  t.is(kernel.exec('return _G._G == _G and _ENV == _G').value, 'true');
  t.is(kernel.exec('return _VERSION').value, 'Lua 5.4');
});

test('globals: the forbidden names are absent, whatever way they are looked up', (t) => {
  const kernel = Kernel.boot();
  for (const name of FORBIDDEN_GLOBALS) {
    t.is(kernel.exec(`return ${name} == nil and rawget(_G, "${name}") == nil and _ENV["${name}"] == nil`).value, 'true', name);
  }
});

for (const [library, names] of Object.entries(LIBRARIES)) {
  test(`library ${library}: exactly the manual's names`, (t) => {
    const kernel = Kernel.boot();
    const actual = inventory(kernel, library);
    t.deepEqual(names.filter((n) => !actual.has(n)), [], 'nothing missing');
    t.deepEqual([...actual.keys()].filter((n) => !names.includes(n)), [], 'nothing extra');
    for (const name of names) t.is(actual.get(name), CONSTANTS[library]?.[name] ?? 'function', `${library}.${name}`);
    // Every name is also readable by indexing (the proxy's __index), not only through pairs.
    const indexed = kernel.exec(`
      local n = 0
      for _, k in ipairs({ ${names.map((n) => `"${n}"`).join(', ')} }) do
        if ${library}[k] ~= nil then n = n + 1 end
      end
      return n`);
    t.is(indexed.value, String(names.length));
  });
}

test('string methods are the string library without dump', (t) => {
  const kernel = Kernel.boot();
  const names = LIBRARIES.string!;
  t.is(kernel.exec(`
    local n = 0
    for _, k in ipairs({ ${names.map((n) => `"${n}"`).join(', ')} }) do
      if ("")[k] == string[k] and ("")[k] ~= nil then n = n + 1 end
    end
    return n`).value, String(names.length));
  t.is(kernel.exec('return ("").dump == nil and string.dump == nil').value, 'true');
});

test('the inventory is the same in isolate mode and on every fresh state', (t) => {
  const persistent = inventory(Kernel.boot(), '_G');
  const isolated = Kernel.boot({ isolate: true });
  const first = inventory(isolated, '_G');
  const second = inventory(isolated, '_G');
  t.deepEqual(sorted(first.keys()), sorted(persistent.keys()));
  t.deepEqual(sorted(second.keys()), sorted(persistent.keys()));
  for (const library of Object.keys(LIBRARIES)) {
    t.deepEqual(sorted(inventory(isolated, library).keys()), sorted(LIBRARIES[library]!), library);
  }
});
