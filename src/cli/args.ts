/*
 * Command-line parsing with node:util's parseArgs, following the `lua` interpreter:
 * options come first; the first non-option argument is the script (`-` for stdin) and
 * everything after it belongs to the script (its `arg` table), options included.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { OPTIONS, UsageError } from './options.js';

export type OptionValue = string | boolean | (string | boolean)[] | undefined;

export interface Invocation {
  /** Option values by name; absent options are undefined. */
  readonly values: Readonly<Record<string, OptionValue>>;
  /** The script path, `-` for stdin, or undefined. */
  readonly script?: string;
  /** The arguments after the script. */
  readonly scriptArgs: readonly string[];
}

const parseOptions: NonNullable<ParseArgsConfig['options']> = Object.fromEntries(OPTIONS.map((o) => [o.name, {
  type: o.arg === undefined ? 'boolean' : 'string',
  ...(o.short === undefined ? {} : { short: o.short }),
  ...(o.multiple === true ? { multiple: true } : {}),
}] as const));

/** Parses the arguments after `lunatik`; throws UsageError on a mistake. */
export function parseCommandLine(args: readonly string[]): Invocation {
  // Locate the script first (lenient pass), so that its own arguments are never read as ours.
  const { tokens } = parseArgs({ args: [...args], options: parseOptions, strict: false, allowPositionals: true, tokens: true });
  const first = tokens.find((t) => t.kind === 'positional');
  const ours = first === undefined ? [...args] : args.slice(0, first.index);
  let values: Record<string, OptionValue>;
  try {
    ({ values } = parseArgs({ args: ours, options: parseOptions, strict: true, allowPositionals: false }));
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e);
    // parseArgs names lua-style one-letter options `--e`; they are written `-e`.
    throw new UsageError(message.replace(/'--(\w)(?=[ '])/g, "'-$1").replace(/\. To specify a positional argument.*$/s, ''));
  }
  if (first === undefined) return { values, scriptArgs: [] };
  return { values, script: args[first.index]!, scriptArgs: args.slice(first.index + 1) };
}

/** The help text, built from the option table. */
export function usage(): string {
  const rows = OPTIONS.map((o) => {
    const flag = o.name.length === 1 ? `-${o.name}` : `${o.short === undefined ? '' : `-${o.short}, `}--${o.name}`;
    return [o.arg === undefined ? flag : `${flag} ${o.arg}`, o.help] as const;
  });
  const width = Math.max(...rows.map(([left]) => left.length)) + 2;
  return [
    'usage: lunatik [options] [script [args]]',
    '',
    'Runs Lua 5.4 (WebAssembly) scripts in a lunatik-wasm kernel, like the lua interpreter.',
    'Each chunk goes through sysLua: its result is printed; an error exits with status 1.',
    '',
    ...rows.map(([left, help]) => `  ${left.padEnd(width)}${help}`),
    `  ${'-'.padEnd(width)}read the script from stdin`,
    `  ${'--'.padEnd(width)}stop handling options`,
    '',
    'With no script and no -e, a REPL starts when stdin is a terminal; otherwise stdin is run as a script.',
    'print() and warn() write to the kernel log: see --dmesg, or .dmesg in the REPL.',
    '',
  ].join('\n');
}
