/*
 * Text the CLI and the demo share: how a failed chunk reads, and the version line.
 */
import { readFileSync } from 'node:fs';
import { errnoName, strerror } from '../sandbox/errno.js';
import type { ExecResult } from '../sandbox/kernel.js';

/** `script.lua:1: boom (ECANCELED: Operation canceled)`. */
export function describeFailure(result: ExecResult): string {
  return `${result.error ?? strerror(result.rc)} (${errnoName(result.rc) ?? `errno ${-result.rc}`}: ${strerror(result.rc)})`;
}

/** The version of the installed lunatik-wasm package (dist/src/cli/ -> the package root). */
export function packageVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version?: unknown };
  return String(pkg.version);
}

export function versionLine(): string {
  return `lunatik-wasm ${packageVersion()} (Lua 5.4.9 in WebAssembly, with fuel metering)`;
}
