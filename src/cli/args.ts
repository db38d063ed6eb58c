/*
 * Command-line parsing with node:util's parseArgs (its tokens), following the `lua`
 * interpreter: options come first; the first non-option argument is the script (`-` for
 * stdin) and everything after it belongs to the script, options included. Mistakes are
 * reported in lua's words (`unrecognized option '--x'`, `'-e' needs argument`).
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { OPTIONS, UsageError } from './options.js';

export type OptionValue = string | boolean | string[] | undefined;

export interface Invocation {
  /** Option values by name; absent options are undefined. */
  readonly values: Readonly<Record<string, OptionValue>>;
  /** The script path, `-` for stdin, or undefined. */
  readonly script?: string;
  /** The arguments after the script. */
  readonly scriptArgs: readonly string[];
  /** Where the script is in the arguments (or their count when there is none): `arg`'s index 0. */
  readonly scriptIndex: number;
}

const parseOptions: NonNullable<ParseArgsConfig['options']> = Object.fromEntries(OPTIONS.map((o) => [o.name, {
  type: o.arg === undefined ? 'boolean' : 'string',
  ...(o.short === undefined ? {} : { short: o.short }),
  ...(o.multiple === true ? { multiple: true } : {}),
}] as const));

/** Parses the arguments after `lunatik`; throws UsageError on a mistake. */
export function parseCommandLine(args: readonly string[]): Invocation {
  const { tokens } = parseArgs({ args: [...args], options: parseOptions, strict: false, allowPositionals: true, tokens: true });
  const values: Record<string, OptionValue> = {};
  for (const token of tokens) {
    if (token.kind === 'positional') {
      return { values, script: token.value, scriptArgs: args.slice(token.index + 1), scriptIndex: token.index };
    }
    if (token.kind === 'option-terminator') {
      const script = args[token.index + 1];
      if (script === undefined) break;
      return { values, script, scriptArgs: args.slice(token.index + 2), scriptIndex: token.index + 1 };
    }
    const option = OPTIONS.find((o) => o.name === token.name);
    // A flag given a value (`--isolate=1`) is no option lua or we know.
    if (option === undefined || option.arg === undefined && token.value !== undefined) {
      throw new UsageError(`unrecognized option '${args[token.index]}'`);
    }
    if (option.arg === undefined) {
      values[option.name] = true;
      continue;
    }
    // As lua: the argument is the next word, unless that word is missing or an option.
    if (token.value === undefined || !token.inlineValue && token.value.startsWith('-')) {
      throw new UsageError(`'${token.rawName}' needs argument`);
    }
    if (option.multiple === true) values[option.name] = [...(values[option.name] as string[] | undefined) ?? [], token.value];
    else values[option.name] = token.value;
  }
  return { values, scriptArgs: [], scriptIndex: args.length };
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
    'Runs Lua 5.4 (WebAssembly) in a lunatik-wasm kernel, like the lua interpreter. Available options are:',
    ...rows.map(([left, help]) => `  ${left.padEnd(width)}${help}`),
    `  ${'--'.padEnd(width)}stop handling options`,
    `  ${'-'.padEnd(width)}stop handling options and execute stdin`,
    '',
    'The values a chunk returns are printed (tables as Lua literals). With no script and no -e,',
    'the REPL starts when stdin is a terminal; otherwise stdin is run as a script.',
    '',
  ].join('\n');
}
