/*
 * What `lunatik` does once its arguments are known, in lua's order: print the version
 * (-v, -i), boot the kernel, set `arg`, run each -e, run the script with its arguments as
 * `...`, enter the REPL (-i, or nothing to run and a terminal on stdin), then print the
 * reports (--dmesg...). print and warn reach stdout and stderr as they happen.
 * Returns the exit status: 0, or 1 when a chunk fails or the command line is wrong (as lua).
 */
import { readFileSync } from 'node:fs';
import { constants } from 'node:os';
// The kernel's own modules, not the package index: the CLI needs no threads or pool (piscina).
import { strerror } from '../sandbox/errno.js';
import { Kernel } from '../sandbox/kernel.js';
import { quoteLua } from '../sandbox/lua-literal.js';
import type { BootOptions } from '../sandbox/options.js';
import { parseCommandLine, usage, type Invocation } from './args.js';
import { describeFailure, valuesLine, versionLine } from './format.js';
import { OPTIONS, UsageError } from './options.js';

export interface CliStreams {
  readonly stdin: NodeJS.ReadableStream & { isTTY?: boolean };
  readonly stdout: NodeJS.WritableStream & { isTTY?: boolean };
  readonly stderr: NodeJS.WritableStream;
}

/** lua's argv[0]: `arg`'s entry below the options. */
const PROGRAM = 'lunatik';

/** A chunk failed: its report is the message (and traceback) to print. */
class ChunkFailure extends Error {}

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
  const nothingToRun = script === undefined && values.e === undefined;
  const repl = values.i === true || nothingToRun && values.version !== true && io.stdin.isTTY === true;
  let kernel: Kernel;
  try {
    kernel = bootKernel(invocation);
  } catch (e) {
    return usageFailure(e, io);
  }
  if (values.version === true || repl) io.stdout.write(`${versionLine()}\n`);
  attachConsole(kernel, io, values.W === true);
  try {
    await runAll(kernel, args, invocation, io, repl);
    return 0;
  } catch (e) {
    io.stderr.write(`${PROGRAM}: ${e instanceof Error ? e.message : String(e)}\n`);
    return 1;
  } finally {
    for (const option of OPTIONS) {
      if (option.report !== undefined && values[option.name]) for (const line of option.report(kernel)) io.stdout.write(`${line}\n`);
    }
    kernel.shutdown();
  }
}

/** Runs everything the command line asks for; throws (the report to print) at the first failure. */
async function runAll(kernel: Kernel, args: readonly string[], invocation: Invocation, io: CliStreams, repl: boolean): Promise<void> {
  const { values, script, scriptArgs } = invocation;
  const run = (code: string | Uint8Array, name: string, chunkArgs: readonly string[] = []): void => {
    const result = kernel.show(code, { name, traceback: true, args: chunkArgs });
    if (result.rc < 0) throw new ChunkFailure(describeFailure(result));
    io.stdout.write(valuesLine(result.values ?? []));
  };
  run(argTable(args, invocation), 'arg');
  for (const code of (values.e as string[] | undefined) ?? []) run(code, '(command line)');
  if (script === '-') run(withoutShebang(await readAll(io.stdin)), 'stdin', scriptArgs);
  else if (script !== undefined) run(withoutShebang(readScript(script)), `@${script}`, scriptArgs);

  if (repl) {
    // Loaded only when asked for: readline is a good part of the start-up of a one-line -e.
    const { startRepl } = await import('./repl.js');
    await startRepl(kernel, { input: io.stdin, output: io.stdout, errors: io.stderr });
  } else if (script === undefined && values.e === undefined && values.version !== true) {
    run(withoutShebang(await readAll(io.stdin)), 'stdin');
  }
}

/** print to stdout, warn to stderr when warnings are on (-W, or warn("@on")), as lua's warning function. */
function attachConsole(kernel: Kernel, io: CliStreams, warnings: boolean): void {
  let on = warnings;
  kernel.log.console = {
    print: (text) => { io.stdout.write(`${text}\n`); },
    warn: (text, control) => {
      if (control) {
        if (text === '@on') on = true;
        else if (text === '@off') on = false;
      } else if (on) io.stderr.write(`Lua warning: ${text}\n`);
    },
  };
}

function usageFailure(e: unknown, io: CliStreams): number {
  const message = e instanceof Error ? e.message : String(e);
  io.stderr.write(e instanceof UsageError ? `${PROGRAM}: ${message}\n${usage()}` : `${PROGRAM}: ${message}\n`);
  return 1;
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

/** The file's bytes; a failure reads as lua's `cannot open <path>: <strerror>`. */
function readScript(path: string): Uint8Array {
  try {
    return readFileSync(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? '';
    const number = (constants.errno as Record<string, number>)[code];
    throw new ChunkFailure(`cannot open ${path}: ${number === undefined ? (e as Error).message : strerror(number)}`);
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

/**
 * Lua code that sets the global `arg` as lua.c's createargtable does: the script at index
 * 0, its arguments at 1..n, the interpreter and the options before it at negative indexes
 * (with no script, the interpreter is at 0 and the options follow it).
 */
function argTable(args: readonly string[], { script, scriptIndex }: Invocation): string {
  const words = [PROGRAM, ...args];
  const zero = script === undefined ? 0 : scriptIndex + 1;
  const items = words.map((word, i) => `[${i - zero}] = ${quoteLua(Buffer.from(word))}`);
  return `arg = { ${items.join(', ')} }`;
}
