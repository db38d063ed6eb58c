/*
 * Text the CLI, the REPL and the demo share: how a failed chunk reads, how values print,
 * and the version line.
 */
import { readFileSync } from 'node:fs';
import { errno, errnoName, strerror } from '../sandbox/errno.js';

export interface Failure {
  readonly rc: number;
  readonly error?: string;
  readonly traceback?: string;
}

/**
 * As lua reports an error: the message, then the traceback when there is one. Lua's own
 * errors (syntax, runtime) read exactly as in lua; a kernel limit or refusal (memory,
 * time, a value that cannot be shown...) also names its errno, which lua has no word for.
 */
export function describeFailure(result: Failure): string {
  const message = result.error ?? strerror(result.rc);
  const luaError = result.rc === -errno.ECANCELED || result.rc === -errno.ENOEXEC;
  const text = luaError ? message : `${message} (${errnoName(result.rc) ?? `errno ${-result.rc}`}: ${strerror(result.rc)})`;
  return result.traceback === undefined ? text : `${text}\n${result.traceback}`;
}

/** A line of values as print writes them: separated by tabs; nothing for no values. */
export function valuesLine(values: readonly string[]): string {
  return values.length === 0 ? '' : `${values.join('\t')}\n`;
}

/** The version of the installed lunatik-wasm package (dist/src/cli/ -> the package root). */
export function packageVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version?: unknown };
  return String(pkg.version);
}

export function versionLine(): string {
  return `lunatik-wasm ${packageVersion()} (Lua 5.4.9 in WebAssembly, with fuel metering)`;
}
