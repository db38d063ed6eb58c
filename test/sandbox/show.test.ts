// kernel.show: every value a chunk returns, as a REPL shows them (print's text, tables
// without a metatable as Lua literals), and the chunk's `...` from `args`.
import test from 'ava';
import { Kernel, errno } from '../../src/index.js';

const kernel = Kernel.boot({ limits: { instructions: 1_000_000 } });
test.after.always(() => kernel.shutdown());

const show = (code: string, args?: string[]) => kernel.show(code, args === undefined ? {} : { args });

test('every value, as print writes it; none for an empty return', (t) => {
  t.deepEqual(show('return 1, 2.5, nil, true, "text", 2^63, -0.0, 1/0'),
    { rc: 8, values: ['1', '2.5', 'nil', 'true', 'text', '9.2233720368548e+18', '-0.0', 'inf'] });
  t.deepEqual(show('local x = 1'), { rc: 0, values: [] });
  t.regex(show('return print').values![0]!, /^(function|builtin): /);
});

test('tables in literal form: sequence first, then identifiers and [keys], nested strings quoted', (t) => {
  t.deepEqual(show('return {}').values, ['{}']);
  t.deepEqual(show('return { 1, "two", { x = 3 } }').values, ['{ 1, "two", { x = 3 } }']);
  const mixed = show('return { [true] = 1, ["a b"] = 2, ["end"] = 3, [2.5] = 4 }').values![0]!;
  t.true(mixed.startsWith('{ ') && mixed.endsWith(' }'), mixed);
  t.deepEqual(mixed.slice(2, -2).split(', ').sort(), ['["a b"] = 2', '["end"] = 3', '[2.5] = 4', '[true] = 1']);
  t.deepEqual(show('return { 1, nil, 3 }').values, ['{ 1, [3] = 3 }'], 'a hole ends the sequence part');
  t.deepEqual(show('return { "a\\n\\0\\"", "é", "\\xff" }').values, ['{ "a\\n\\000\\"", "é", "\\255" }']);
});

test('depth, size and cycles are bounded', (t) => {
  t.deepEqual(show('return {{{{{{1}}}}}}').values, ['{ { { { {...} } } } }']);
  const long = show('local t = {} for i = 1, 500 do t[i] = i end return t').values![0]!;
  t.true(long.endsWith(', 100, ... }'), long.slice(-30));
  const wide = show('local t = {} for i = 1, 100 do t[i] = i end for _ = 1, 3 do local up = {} for i = 1, 100 do up[i] = t end t = up end return t').values![0]!;
  t.true(wide.length < 100_000, `100^4 entries (one table shared 100 times per level) are cut to a bounded text: ${wide.length} characters`);
  t.true(wide.endsWith('... }'), wide.slice(-20));
  const cycle = show('local t = {} t.self = t return t').values![0]!;
  t.regex(cycle, /^\{ self = <cycle: table: 0x[0-9a-f]+> \}$/);
});

test('a table with a metatable shows as print shows it; __tostring runs under the limits', (t) => {
  t.deepEqual(show('return setmetatable({}, { __tostring = function() return "T" end })').values, ['T']);
  t.regex(show('return string').values![0]!, /^table: 0x/, 'a read-only library proxy is not shown as an empty table');
  t.is(show('return setmetatable({}, { __tostring = function() error("bad") end })').rc, -errno.ECANCELED);
  t.is(show('return { setmetatable({}, { __tostring = function() while true do end end }) }').rc, -errno.ETIME);
});

test('args become the chunk\'s ..., as strings; errors keep their traceback', (t) => {
  t.deepEqual(show('return select("#", ...), ...', ['a', '', 'é']), { rc: 4, values: ['3', 'a', '', 'é'] });
  t.deepEqual(show('return select("#", ...)', []), { rc: 1, values: ['0'] });
  const failed = kernel.show('error("x")', { name: 'c', traceback: true, args: [] });
  t.deepEqual(failed, { rc: -errno.ECANCELED, error: 'c:1: x', traceback: "stack traceback:\n\t[C]: in function 'error'\n\tc:1: in main chunk\n\t[C]: in ?" });
  t.is(kernel.show('return 1 +').rc, -errno.ENOEXEC);
});

test('showing leaves the stack empty and leaks nothing', (t) => {
  const k = Kernel.boot();
  for (let i = 0; i < 50; i++) k.show('local t = { 1, { 2 }, x = { y = "z" } } t.t = t return t, 1, "s"', { args: ['a'] });
  t.is(k.exec('return select("#", ...)').value, '0');
  t.deepEqual(k.shutdown().leaks, []);
});
