// The `lunatik` command line and the `npm start` demo, run as child processes.
import test from 'ava';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const CLI = fileURLToPath(new URL('../../src/cli/lunatik.js', import.meta.url));
const DEMO = fileURLToPath(new URL('../../src/cli/demo.js', import.meta.url));
const PACKAGE = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string };

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a script with node, feeding `input` on stdin (closed at once when absent). */
function node(file: string, args: string[], input = ''): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [file, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (s: string) => { stdout += s; });
    child.stderr.setEncoding('utf8').on('data', (s: string) => { stderr += s; });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(input);
  });
}

const lunatik = (args: string[], input?: string): Promise<Run> => node(CLI, args, input);

const tmp = mkdtempSync(join(tmpdir(), 'lunatik-cli-'));
test.after.always(() => rmSync(tmp, { recursive: true, force: true }));

test('-e prints the value of each chunk, exactly, and nothing for an empty one', async (t) => {
  const r = await lunatik(['-e', 'return type({ 123 })', '-e', 'return 6 * 7', '-e', 'local x = 1', '-e', 'return "a b"']);
  t.is(r.code, 0);
  t.is(r.stdout, 'table\n42\na b\n');
  t.is(r.stderr, '');
});

test('several -e run in order on one kernel and share globals', async (t) => {
  const r = await lunatik(['-e', 'x = 20', '-e', 'x = x * 2', '-e', 'return x + 2']);
  t.is(r.code, 0);
  t.is(r.stdout, '42\n');
});

test('--isolate gives every chunk a fresh state', async (t) => {
  const r = await lunatik(['--isolate', '-e', 'x = 1', '-e', 'return tostring(x)']);
  t.is(r.code, 0);
  t.is(r.stdout, 'nil\n');
});

test('a script file runs under its own name, with arg and a skipped #! line', async (t) => {
  const script = join(tmp, 'script.lua');
  writeFileSync(script, '#!/usr/bin/env lunatik\nreturn arg[0] .. " " .. table.concat(arg, ",")\n');
  const ok = await lunatik([script, 'one', '-e']);
  t.is(ok.code, 0);
  t.is(ok.stdout, `${script} one,-e\n`);

  const bad = join(tmp, 'bad.lua');
  writeFileSync(bad, 'local x = 1\nerror("boom")\n');
  const r = await lunatik([bad]);
  t.is(r.code, 1);
  t.is(r.stderr, `lunatik: ${bad}:2: boom (ECANCELED: Operation canceled)\n`);
});

test('- reads the script from stdin', async (t) => {
  const r = await lunatik(['-'], 'local a = "from"\nreturn a .. " stdin"\n');
  t.is(r.code, 0);
  t.is(r.stdout, 'from stdin\n');
});

test('errors exit 1 with the script\'s message and the errno name on stderr', async (t) => {
  const runtime = await lunatik(['-e', 'error("boom")', '-e', 'return "never runs"']);
  t.is(runtime.code, 1);
  t.is(runtime.stdout, '');
  t.is(runtime.stderr, 'lunatik: (command line):1: boom (ECANCELED: Operation canceled)\n');

  const syntax = await lunatik(['-e', 'return 1 +']);
  t.is(syntax.code, 1);
  t.regex(syntax.stderr, /^lunatik: \(command line\):1: .*<eof> \(ENOEXEC: Exec format error\)\n$/);

  const table = await lunatik(['-e', 'return {}']);
  t.is(table.code, 1);
  t.regex(table.stderr, /table.*\(EINVAL: Invalid argument\)\n$/);

  const bomb = await lunatik(['--memory-limit', '1m', '-e', 'local s = "x" while true do s = s .. s end']);
  t.is(bomb.code, 1);
  t.regex(bomb.stderr, /\(ENOMEM: Cannot allocate memory\)\n$/);

  const missing = await lunatik([join(tmp, 'missing.lua')]);
  t.is(missing.code, 1);
  t.regex(missing.stderr, /^lunatik: cannot open .*missing\.lua \(ENOENT: No such file or directory\)\n$/);
});

test('usage errors exit 2 with a message', async (t) => {
  for (const args of [['--bogus'], ['-e'], ['--memory-limit', 'lots', '-e', 'return 1'], ['--memory-limit', '1', '-e', 'return 1']]) {
    const r = await lunatik(args);
    t.is(r.code, 2, args.join(' '));
    t.regex(r.stderr, /^lunatik: .+\n/, args.join(' '));
    t.is(r.stdout, '');
  }
});

test('--dmesg prints the kernel log as [ seconds] text, also after a failure', async (t) => {
  const r = await lunatik(['--dmesg', '-e', 'print("hello log")', '-e', 'return 1']);
  t.is(r.code, 0);
  const lines = r.stdout.trimEnd().split('\n');
  t.is(lines[0], '1');
  t.regex(lines[1]!, /^\[ *\d+\.\d{6}\] hello log$/);

  const failed = await lunatik(['--dmesg', '-e', 'print("before") error("x")']);
  t.is(failed.code, 1);
  t.regex(failed.stdout, /^\[ *\d+\.\d{6}\] before\n$/);
});

test('-h prints the usage, -v the package version', async (t) => {
  const help = await lunatik(['-h']);
  t.is(help.code, 0);
  t.regex(help.stdout, /^usage: lunatik \[options\] \[script \[args\]\]/);
  for (const option of ['-e code', '-i', '--isolate', '--memory-limit bytes', '--dmesg', '--version', '--help']) t.true(help.stdout.includes(option), option);

  for (const flag of ['-v', '--version']) {
    const version = await lunatik([flag]);
    t.is(version.code, 0);
    t.is(version.stdout, `lunatik-wasm ${PACKAGE.version} (Lua 5.4.9 in WebAssembly, with fuel metering)\n`);
  }
});

test('the REPL (-i) evaluates piped lines on one kernel, continues incomplete input, and exits at EOF', async (t) => {
  const input = [
    'x = 20', // statement: prints nothing
    'x * 2 + 2', // expression, as in lua's REPL
    'function double(n)', // incomplete: continues on the next lines
    '  return n * 2',
    'end',
    'double(x)',
    'error("oops")',
    'print("to the log")',
    '.dmesg',
    'return "still here"',
  ].join('\n');
  const r = await lunatik(['-i'], `${input}\n`);
  t.is(r.code, 0);
  const out = r.stdout;
  t.true(out.includes('> 42\n'), out);
  t.true(out.includes('40\n'), out);
  t.true(out.includes('stdin:1: oops (ECANCELED: Operation canceled)\n'), out);
  t.regex(out, /\[ *\d+\.\d{6}\] to the log\n/);
  t.true(out.includes('still here\n'), out);
  t.false(out.includes('undefined'), out);
});

test('-i runs -e first, then the REPL on the same kernel', async (t) => {
  const r = await lunatik(['-e', 'y = "kept"', '-i'], 'y\n');
  t.is(r.code, 0);
  t.true(r.stdout.includes('> kept\n'), r.stdout);
});

test('no arguments with piped stdin runs stdin as a script, as lua does', async (t) => {
  const r = await lunatik([], 'return "piped"\n');
  t.is(r.code, 0);
  t.is(r.stdout, 'piped\n');
});

test('the npm start demo runs and shows type({ 123 }) is a table and each errno', async (t) => {
  const r = await node(DEMO, []);
  t.is(r.code, 0);
  t.is(r.stderr, '');
  t.regex(r.stdout, /script: return type\(\{ 123 \}\)\n\s+rc:\s+5\n\s+value:\s+table\n/);
  for (const name of ['ENOEXEC', 'ECANCELED', 'ENOMEM', 'EINVAL']) t.true(r.stdout.includes(`${name}: `), name);
  t.regex(r.stdout, /\[ *\d+\.\d{6}\] hello from Lua/);
});
