#!/usr/bin/env node
/*
 * Builds wasm/lua/lua.wasm from the vendored, unmodified Lua sources plus our fuel patch
 * (`npm run build:image`; needs Emscripten: `apt-get install emscripten`, 3.1.6 here).
 *
 * Steps: copy vendor/lua-5.4.9/src and lunatik/ into a temporary directory, apply
 * fuel.patch there, compile with emcc, keep only the .wasm (the kernel serves the
 * imports itself, wasm/syscall-table.ts), and record in image.json the compiler's exact
 * version, the flags, the sources' and the image's SHA-256. test/sandbox/image.test.ts
 * checks the committed image against that record.
 */
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const vendor = join(here, 'vendor', 'lua-5.4.9', 'src');
const ours = join(here, 'lunatik');
const patch = join(here, 'fuel.patch');

// The library set the kernel opens; io, os, package, debug and the standalone programs are left out.
const LEFT_OUT = new Set(['lua.c', 'luac.c', 'liolib.c', 'loslib.c', 'loadlib.c', 'ldblib.c', 'linit.c']);

// What the kernel calls: the C API and the auxiliary library (variadic functions excepted:
// JS cannot build a va_list), the libraries it opens, the allocator, and the fuel meter.
const EXPORTS = [
  ...readFileSync(join(vendor, 'lua.h'), 'utf8').matchAll(/^LUA_API [^;(]*\(?(lua_\w+)\)?\s*\(/gm),
  ...readFileSync(join(vendor, 'lauxlib.h'), 'utf8').matchAll(/^LUALIB_API [^;(]*\(?(luaL_\w+)\)?\s*\(/gm),
]
  .map((m) => m[1])
  .filter((name) => !['lua_pushfstring', 'lua_pushvfstring', 'lua_gc', 'luaL_error', 'luaL_openlibs'].includes(name))
  .concat(['luaopen_base', 'luaopen_coroutine', 'luaopen_table', 'luaopen_string', 'luaopen_math', 'luaopen_utf8'])
  .concat(['malloc', 'free', 'realloc', 'emscripten_stack_init', 'lunatik_fuelstart', 'lunatik_fuelused']);

export const FLAGS = [
  '-O3',
  '--profiling-funcs', // a name section: wasm/compile.ts finds luaV_execute by name
  '-sALLOW_MEMORY_GROWTH=1',
  // V8 counts an instance's whole memory as external memory from the start (issue 12's
  // density bench: every 64 MiB of it in a process costs a full GC), so the image starts
  // with only what it needs: data, its 1 MiB C stack and a little heap. The pool grows it.
  '-sINITIAL_MEMORY=1280KB',
  '-sMAXIMUM_MEMORY=2GB',
  '-sTOTAL_STACK=1MB',
  '-sALLOW_TABLE_GROWTH=1',
  '-sWASM_BIGINT=1', // lua_Integer crosses as a BigInt, no i64 legalization imports
  '-sMALLOC=emmalloc',
  '-sFILESYSTEM=0',
  '-sSUPPORT_LONGJMP=1',
  '-sENVIRONMENT=node',
  '-sEXPORTED_RUNTIME_METHODS=[]',
  '-sDECLARE_ASM_MODULE_EXPORTS=0', // keeps import and export names readable (not minified)
  '--js-library', 'lunatik/imports.js',
];

const sha256 = (bytes) => createHash('sha256').update(bytes).digest('hex');

function sourcesDigest(dir) {
  const hash = createHash('sha256');
  for (const name of readdirSync(dir).sort()) hash.update(name).update(readFileSync(join(dir, name)));
  return hash.digest('hex');
}

const work = mkdtempSync(join(tmpdir(), 'lunatik-image-'));
try {
  cpSync(vendor, join(work, 'src'), { recursive: true });
  cpSync(ours, join(work, 'lunatik'), { recursive: true });
  execFileSync('patch', ['-p1', '--quiet', '-d', work, '-i', patch], { stdio: 'inherit' });
  const sources = [
    ...readdirSync(join(work, 'src')).filter((f) => f.endsWith('.c') && !LEFT_OUT.has(f)).sort().map((f) => `src/${f}`),
    'lunatik/lfuel.c',
  ];
  const flags = [...FLAGS, `-sEXPORTED_FUNCTIONS=${JSON.stringify(EXPORTS.map((n) => `_${n}`))}`];
  const version = execFileSync('emcc', ['--version'], { encoding: 'utf8' }).split('\n')[0].trim();
  // Debian's emscripten runs its JS optimizer with the system's acorn (package node-acorn).
  const env = { ...process.env, NODE_PATH: [process.env.NODE_PATH, '/usr/share/nodejs'].filter(Boolean).join(':') };
  execFileSync('emcc', [...flags, '-Isrc', '-Ilunatik', ...sources, '-o', 'lua.js'], { cwd: work, stdio: 'inherit', env });
  const image = readFileSync(join(work, 'lua.wasm'));
  writeFileSync(join(here, 'lua.wasm'), image);
  const record = {
    lua: 'Lua 5.4.9, official release tarball (Debian lua5.4_5.4.9.orig.tar.gz), unmodified sources in vendor/, changes in fuel.patch and lunatik/',
    compiler: version,
    flags,
    sources,
    vendorSha256: sourcesDigest(vendor),
    patchSha256: sha256(readFileSync(patch)),
    bytes: image.length,
    sha256: sha256(image),
  };
  writeFileSync(join(here, 'image.json'), `${JSON.stringify(record, null, 2)}\n`);
  console.log(`wasm/lua/lua.wasm: ${image.length} bytes, sha256 ${record.sha256}`);
} finally {
  rmSync(work, { recursive: true, force: true });
}
