// The published package, as a consumer gets it: what `npm pack` puts in the tarball, its
// public types compiled by a consumer under --strict (with @types/node only; and without it,
// where the DOM library provides AbortSignal, so no Node-only type such as Buffer leaks), and `require()` of it from CommonJS (Node 20.19+ loads an ES module
// without top-level await that way). The tarball is packed from the dist/ of this build.
import test from 'ava';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const TSC = join(ROOT, 'node_modules/typescript/bin/tsc');
const PACKAGE = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> };

interface PackEntry {
  filename: string;
  files: { path: string }[];
}

/** `npm pack` without lifecycle scripts (dist/ is already built: a prepack rebuild would rewrite it under the running tests). */
function npmPack(...args: string[]): PackEntry {
  const out = execFileSync('npm', ['pack', '--json', '--ignore-scripts', ...args], { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  return (JSON.parse(out) as PackEntry[])[0]!;
}

const tmp = mkdtempSync(join(tmpdir(), 'lunatik-package-'));
test.after.always(() => rmSync(tmp, { recursive: true, force: true }));

/**
 * The tarball (packed once) unpacked as node_modules/lunatik-wasm of a consumer project in
 * `tmp`, its dependencies linked from ours; returns that project's folder and npm's listing
 * of the tarball (the same as `npm pack --dry-run` prints).
 */
const consumer = (() => {
  let made: { dir: string; files: string[] } | undefined;
  return (): { dir: string; files: string[] } => {
    if (made !== undefined) return made;
    const { filename, files } = npmPack('--pack-destination', tmp);
    const modules = join(tmp, 'node_modules');
    mkdirSync(modules, { recursive: true });
    execFileSync('tar', ['-xzf', join(tmp, filename), '-C', tmp]);
    renameSync(join(tmp, 'package'), join(modules, 'lunatik-wasm'));
    for (const dependency of ['wasmoon', 'piscina', '@noble', '@napi-rs']) {
      try {
        symlinkSync(join(ROOT, 'node_modules', dependency), join(modules, dependency));
      } catch { /* an optional dependency not installed here */ }
    }
    made = { dir: tmp, files: files.map((f) => f.path) };
    return made;
  };
})();

test('the tarball holds the code, one declaration bundle, README and LICENSE: no tests, demo, bench or source maps', (t) => {
  const { files } = consumer();
  for (const required of ['package.json', 'README.md', 'LICENSE', 'dist/lunatik-wasm.d.ts', 'dist/src/index.js', 'dist/src/cli/lunatik.js', 'dist/src/cli/repl.js']) {
    t.true(files.includes(required), required);
  }
  for (const file of files) {
    t.false(/\.map$|^dist\/(test|bench)\/|demo|^src\/|^test\/|^bench\//.test(file), file);
    t.false(file.endsWith('.d.ts') && file !== 'dist/lunatik-wasm.d.ts', `${file}: the bundle is the only declaration file`);
  }
});

test('no script runs when the package is installed: the build happens before packing', (t) => {
  for (const name of ['preinstall', 'install', 'postinstall', 'prepare']) t.false(name in PACKAGE.scripts, name);
  t.regex(PACKAGE.scripts.prepack ?? '', /npm run build/);
  // `dependencies` runs after npm ci/install changes node_modules, in this repository only.
  t.regex(PACKAGE.scripts.dependencies ?? '', /npm run build/);
});

const CONSUMER_TS = `
import { Kernel, KernelThread, errno, sysLua, type ExecResult, type LunatikModule, type ShowResult } from 'lunatik-wasm';

const greet: LunatikModule = {
  name: 'greet',
  init(ctx) {
    ctx.function('greet', (lua, L) => {
      lua.pushString(L, 'hello, ' + lua.checkString(L, 1));
      // @ts-expect-error the image and its raw C API are not public
      void lua.image;
      return 1;
    });
  },
};
const kernel = Kernel.boot({ memory: { limit: 16 * 1024 * 1024 }, modules: [greet] });
const result: ExecResult = kernel.exec('return greet("you")', { name: 'consumer', traceback: true });
const shown: ShowResult = kernel.show('return ...', { args: ['a'] });
kernel.log.console = { print: (text: string) => void text, warn: (text: string, control: boolean) => void [text, control] };
const rc: number = sysLua('return 1', 8, new Uint8Array(16), 16);
const code: number = errno.EINVAL + rc + result.rc + shown.rc;
export const thread: typeof KernelThread = KernelThread;
export { code };
`;

const SETUPS = [
  { label: '@types/node only (lib ES2022)', types: ['node'], lib: ['ES2022'] },
  { label: 'no @types/node (lib ES2022 + DOM)', types: [], lib: ['ES2022', 'DOM'] },
] as const;

for (const { label, types, lib } of SETUPS) {
  test(`a consumer's TypeScript compiles against the packed types under --strict, with ${label}`, (t) => {
    const { dir } = consumer();
    writeFileSync(join(dir, 'consumer.ts'), CONSUMER_TS);
    const config = join(dir, `tsconfig.${lib.length}.json`);
    writeFileSync(config, JSON.stringify({
      compilerOptions: {
        strict: true, noEmit: true, skipLibCheck: false, target: 'ES2022', lib,
        module: 'NodeNext', moduleResolution: 'NodeNext', types, typeRoots: [join(ROOT, 'node_modules/@types')],
      },
      files: ['consumer.ts'],
    }));
    const r = spawnSync(process.execPath, [TSC, '-p', config], { cwd: dir, encoding: 'utf8' });
    t.is(r.status, 0, r.stdout + r.stderr);
  });
}

test('require() of the packed package works from CommonJS', (t) => {
  const { dir } = consumer();
  writeFileSync(join(dir, 'consumer.cjs'), `
    const { Kernel, errno } = require('lunatik-wasm');
    const kernel = Kernel.boot();
    const r = kernel.exec('return 6 * 7');
    process.stdout.write(r.value + ' ' + typeof errno.EINVAL + ' ' + kernel.shutdown().leaks.length);
  `);
  const r = spawnSync(process.execPath, [join(dir, 'consumer.cjs')], { cwd: dir, encoding: 'utf8' });
  t.is(r.status, 0, r.stderr);
  t.is(r.stdout, '42 number 0');
  t.is(r.stderr, '');
});
