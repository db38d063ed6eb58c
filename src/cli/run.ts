/*
 * What `lunatik` does once its arguments are known, in lua's order: print the version
 * (-v), boot the kernel, set `arg`, run each -e, run the script, enter the REPL (-i, or
 * nothing to run and a terminal on stdin), then print the reports (--dmesg...).
 * Returns the exit status: 0, 1 when a chunk fails, 2 for a usage error.
 */
import { readFileSync } from 'node:fs';
import { constants } from 'node:os';
// The kernel's own modules, not the package index: the CLI needs no threads or pool (piscina).
import { strerror } from '../sandbox/errno.js';
import { Kernel } from '../sandbox/kernel.js';
import type { BootOptions } from '../sandbox/options.js';
import { parseCommandLine, usage, type Invocation } from './args.js';
import { describeFailure, versionLine } from './format.js';
import { OPTIONS, UsageError } from './options.js';

export interface CliStreams {
  readonly stdin: NodeJS.ReadableStream & { isTTY?: boolean };
  readonly stdout: NodeJS.WritableStream & { isTTY?: boolean };
  readonly stderr: NodeJS.WritableStream;
}

export async function main(args: readonly string[], io: CliStreams): Promise<number> {
  let invocation: Invocation;
  try {
    invocation = parseCommandLine(args);
  } catch (e) {
    return usageFailure(e, io);
  }
  const { values, script } = invocation;
  if (values.help === true) {
    io.stdout.write(usage());
    return 0;
  }
  if (values.version === true) io.stdout.write(`${versionLine()}\n`);
  const hasCode = script !== undefined || values.e !== undefined;
  if (values.version === true && !hasCode && values.i !== true) return 0;

  let kernel: Kernel;
  try {
    kernel = bootKernel(invocation);
  } catch (e) {
    return usageFailure(e, io);
  }
  try {
    await runAll(kernel, invocation, io);
    return 0;
  } catch (e) {
    io.stderr.write(`lunatik: ${e instanceof Error ? e.message : String(e)}\n`);
    return 1;
  } finally {
    for (const option of OPTIONS) {
      if (option.report !== undefined && values[option.name]) for (const line of option.report(kernel)) io.stdout.write(`${line}\n`);
    }
    kernel.shutdown();
  }
}

/** Runs everything the command line asks for; throws (the message to print) at the first failure. */
async function runAll(kernel: Kernel, { values, script, scriptArgs }: Invocation, io: CliStreams): Promise<void> {
  const run = (code: string | Uint8Array, name: string): void => {
    const result = kernel.exec(code, { name });
    if (result.rc < 0) throw new Error(describeFailure(result));
    if (result.value) io.stdout.write(`${result.value}\n`);
  };
  if (script !== undefined) run(argTable(script, scriptArgs), 'arg');
  for (const code of (values.e as string[] | undefined) ?? []) run(code, '(command line)');
  if (script === '-') run(withoutShebang(await readAll(io.stdin)), 'stdin');
  else if (script !== undefined) run(withoutShebang(readScript(script)), script);

  const nothingToRun = script === undefined && values.e === undefined;
  if (values.i === true || nothingToRun && io.stdin.isTTY === true) {
    // Loaded only when asked for: node:repl is a good part of the start-up of a one-line -e.
    const { startRepl } = await import('./repl.js');
    await startRepl(kernel, { input: io.stdin, output: io.stdout }, versionLine());
  } else if (nothingToRun) {
    run(withoutShebang(await readAll(io.stdin)), 'stdin');
  }
}

function usageFailure(e: unknown, io: CliStreams): number {
  if (!(e instanceof UsageError)) {
    io.stderr.write(`lunatik: ${e instanceof Error ? e.message : String(e)}\n`);
    return 1;
  }
  io.stderr.write(`lunatik: ${e.message}\nTry 'lunatik --help' for more information.\n`);
  return 2;
}

function bootKernel({ values }: Invocation): Kernel {
  const options: BootOptions = {};
  for (const option of OPTIONS) {
    const value = values[option.name];
    if (option.boot !== undefined && value !== undefined && value !== false) option.boot(options, typeof value === 'string' ? value : '');
  }
  try {
    return Kernel.boot(options);
  } catch (e) {
    // Kernel.boot checks option values (ranges, types) before anything else: the user's mistake.
    if (e instanceof RangeError || e instanceof TypeError) throw new UsageError(e.message);
    throw e;
  }
}

function readScript(path: string): Uint8Array {
  try {
    return readFileSync(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? '';
    const number = (constants.errno as Record<string, number>)[code];
    throw new Error(`cannot open ${path} (${code}: ${number === undefined ? (e as Error).message : strerror(number)})`);
  }
}

async function readAll(stream: NodeJS.ReadableStream): Promise<Uint8Array> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
  return Buffer.concat(chunks);
}

/** As luaL_loadfile: a first line starting with '#' is skipped, its newline kept so line numbers hold. */
function withoutShebang(code: Uint8Array): Uint8Array {
  if (code[0] !== 0x23 /* # */) return code;
  const newline = code.indexOf(0x0a);
  return newline < 0 ? new Uint8Array(0) : code.subarray(newline);
}

/** Lua code that sets the global `arg` as lua does: arg[0] the script, arg[1..n] its arguments. */
function argTable(script: string, scriptArgs: readonly string[]): string {
  const items = [`[0] = ${luaString(script)}`, ...scriptArgs.map(luaString)];
  return `arg = { ${items.join(', ')} }`;
}

/** A Lua string literal for any text: printable ASCII as is, every other byte as \ddd. */
function luaString(text: string): string {
  let out = '"';
  for (const byte of Buffer.from(text)) {
    out += byte >= 0x20 && byte < 0x7f && byte !== 0x22 && byte !== 0x5c ? String.fromCharCode(byte) : `\\${String(byte).padStart(3, '0')}`;
  }
  return `${out}"`;
}
