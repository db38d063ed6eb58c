/*
 * Locates wasmoon's glue.wasm, compiles it once per process and checks that it is the
 * image this code was written for. Compilation is the expensive step (tens of ms);
 * instances are cheap (about a millisecond), so every kernel shares the one Module.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { EXPECTED_EXPORTS, EXPECTED_IMPORTS, WASMOON_VERSION, diffNames } from './abi.js';

export class ImageMismatchError extends Error {
  override name = 'ImageMismatchError';
}

let cached: WebAssembly.Module | undefined;

/** Absolute path of the glue.wasm shipped by the installed wasmoon. */
export function imagePath(): string {
  const require = createRequire(import.meta.url);
  const pkgJson = require.resolve('wasmoon/package.json');
  const { version } = JSON.parse(readFileSync(pkgJson, 'utf8')) as { version: string };
  if (version !== WASMOON_VERSION) {
    throw new ImageMismatchError(
      `wasmoon ${version} is installed, but lunatik-wasm is built against the glue.wasm ABI of wasmoon ${WASMOON_VERSION}`,
    );
  }
  return join(dirname(pkgJson), 'dist', 'glue.wasm');
}

/** Throws an ImageMismatchError naming every import or export that differs. */
export function checkImage(module: WebAssembly.Module): void {
  const imports = diffNames(
    EXPECTED_IMPORTS,
    WebAssembly.Module.imports(module).map((i) => `${i.module}.${i.name}`),
  );
  const exports = diffNames(EXPECTED_EXPORTS, WebAssembly.Module.exports(module).map((e) => e.name));
  const problems = [
    ...imports.missing.map((n) => `missing import ${n}`),
    ...imports.extra.map((n) => `unexpected import ${n}`),
    ...exports.missing.map((n) => `missing export ${n}`),
    ...exports.extra.map((n) => `unexpected export ${n}`),
  ];
  if (problems.length > 0) {
    throw new ImageMismatchError(`glue.wasm does not match the ABI of wasmoon ${WASMOON_VERSION}: ${problems.join(', ')}`);
  }
}

/** The compiled, checked image; compiled on first use and shared by every kernel of the process. */
export function loadImage(): WebAssembly.Module {
  if (cached === undefined) {
    const module = new WebAssembly.Module(readFileSync(imagePath()));
    checkImage(module);
    cached = module;
  }
  return cached;
}

/** Lets a worker thread reuse a Module compiled elsewhere (Modules clone across threads without recompiling). */
export function adoptImage(module: WebAssembly.Module): void {
  checkImage(module);
  cached = module;
}
