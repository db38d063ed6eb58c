/*
 * Locates the Lua image (wasm/lua/lua.wasm, built from the vendored Lua sources by
 * wasm/lua/build-image.mjs and committed), compiles it once per process and checks that
 * it is the image this code was written for. Compilation is the expensive step; instances are cheap
 * (about a millisecond), so every kernel shares the one Module, and worker threads adopt
 * it instead of compiling again. How it is compiled (and why luaV_execute gets TurboFan
 * from its first call) is in compile.ts.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { EXPECTED_EXPORTS, EXPECTED_IMPORTS, diffNames } from './abi.js';
import { type CompileInfo, type CompileStrategy, COMPILE_STRATEGIES, compileImage, isCompileStrategy } from './compile.js';
import { primeInterpreter } from './compile-prime.js';

export { type CompileInfo, type CompileStrategy, COMPILE_STRATEGIES } from './compile.js';

export class ImageMismatchError extends Error {
  override name = 'ImageMismatchError';
}

let cached: WebAssembly.Module | undefined;
let cachedInfo: CompileInfo | undefined;
let chosen: CompileStrategy | undefined;

/** Environment variable that picks the compile strategy when the code did not. */
export const COMPILE_ENV = 'LUNATIK_WASM_COMPILE';

function strategyFromEnv(): CompileStrategy {
  const value = process.env[COMPILE_ENV];
  if (value === undefined || value === '') return 'hinted';
  if (!isCompileStrategy(value)) {
    throw new RangeError(`${COMPILE_ENV}=${value} is not a compile strategy (${COMPILE_STRATEGIES.join(', ')})`);
  }
  return value;
}

/**
 * Chooses how the image is compiled (see compile.ts): `hinted` (the default), `optimized`
 * or `baseline` (no V8 flag touched at all). The environment variable LUNATIK_WASM_COMPILE
 * does the same without code. Call it before the first kernel boots: the image is compiled
 * once per process, and asking for another strategy afterwards throws.
 */
export function setCompileStrategy(strategy: CompileStrategy): void {
  if (!isCompileStrategy(strategy)) {
    throw new RangeError(`unknown compile strategy ${String(strategy)} (${COMPILE_STRATEGIES.join(', ')})`);
  }
  if (cached !== undefined && (cachedInfo === undefined || cachedInfo.requested !== strategy)) {
    throw new Error(`the Lua image is already compiled${cachedInfo ? ` with the ${cachedInfo.strategy} strategy` : ''}; choose the strategy before the first kernel boots`);
  }
  chosen = strategy;
}

/** How the image of this process was compiled, once it has been (undefined in a worker that adopted it). */
export function imageCompileInfo(): CompileInfo | undefined {
  return cachedInfo;
}

/** Absolute path of the image: wasm/lua/lua.wasm of the package (this file runs from dist/wasm/). */
export function imagePath(): string {
  return fileURLToPath(new URL('../../wasm/lua/lua.wasm', import.meta.url));
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
    throw new ImageMismatchError(`the Lua image does not match the ABI this code expects (wasm/abi.ts): ${problems.join(', ')}`);
  }
}

/** The compiled, checked image; compiled on first use and shared by every kernel of the process. */
export function loadImage(): WebAssembly.Module {
  if (cached === undefined) {
    const { module, info } = compileImage(readFileSync(imagePath()), chosen ?? strategyFromEnv());
    checkImage(module);
    // With hints, luaV_execute's TurboFan compile happens now, not in the first script.
    if (info.strategy === 'hinted') {
      const primeMs = primeInterpreter(module);
      if (primeMs !== undefined) info.primeMs = primeMs;
    }
    cached = module;
    cachedInfo = info;
  }
  return cached;
}

/**
 * Lets a worker thread reuse a Module compiled elsewhere: Modules clone across threads
 * without recompiling, and keep the compile strategy (and the code) they were built with.
 */
export function adoptImage(module: WebAssembly.Module): void {
  checkImage(module);
  cached = module;
  cachedInfo = undefined;
}
