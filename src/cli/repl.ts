/*
 * The interactive loop: node:repl with every input going through kernel.exec on one
 * persistent kernel. As in lua's REPL, a line is first tried as an expression
 * (`return <line>`), then as statements; a syntax error ending in `<eof>` means the input
 * is incomplete, and node:repl keeps reading lines (Recoverable).
 */
import repl from 'node:repl';
import { errno } from '../sandbox/errno.js';
import type { ExecResult, Kernel } from '../sandbox/kernel.js';
import { formatRecord } from '../sandbox/klog.js';
import { describeFailure } from './format.js';

export interface ReplStreams {
  readonly input: NodeJS.ReadableStream & { isTTY?: boolean };
  readonly output: NodeJS.WritableStream & { isTTY?: boolean };
}

const CHUNK_NAME = 'stdin';

const KEYWORDS = ['and', 'break', 'do', 'else', 'elseif', 'end', 'false', 'for', 'function', 'goto', 'if', 'in',
  'local', 'nil', 'not', 'or', 'repeat', 'return', 'then', 'true', 'until', 'while'];

/** Runs one input: as an expression if it is one, else as statements. */
export function evaluate(kernel: Kernel, input: string): ExecResult {
  const asExpression = kernel.exec(`return ${input}`, { name: CHUNK_NAME });
  if (asExpression.rc !== -errno.ENOEXEC) return asExpression;
  return kernel.exec(input, { name: CHUNK_NAME });
}

/** Lua's test for input that is incomplete rather than wrong. */
export function isIncomplete(result: ExecResult): boolean {
  return result.rc === -errno.ENOEXEC && result.error !== undefined && result.error.endsWith('<eof>');
}

/** Starts the REPL; resolves when it exits (.exit, Ctrl-D, end of input). */
export function startRepl(kernel: Kernel, streams: ReplStreams, banner: string): Promise<void> {
  const terminal = streams.input.isTTY === true && streams.output.isTTY === true;
  streams.output.write(`${banner}\nType Lua code; .dmesg shows the kernel log (where print goes), .help lists commands, .exit leaves.\n`);
  const server = repl.start({
    prompt: '> ',
    input: streams.input,
    output: streams.output,
    terminal,
    preview: false,
    ignoreUndefined: true,
    writer: (value: unknown) => String(value),
    completer: (line: string) => {
      const word = /[A-Za-z_]\w*$/.exec(line)?.[0] ?? '';
      return [word === '' ? [] : KEYWORDS.filter((k) => k.startsWith(word)), word];
    },
    eval: (code, _context, _file, callback) => {
      const result = evaluate(kernel, code.replace(/\n$/, ''));
      if (isIncomplete(result)) return callback(new repl.Recoverable(new SyntaxError(result.error)), undefined);
      if (result.rc < 0) {
        streams.output.write(`${describeFailure(result)}\n`);
        return callback(null, undefined);
      }
      callback(null, result.value === '' ? undefined : result.value);
    },
  });
  server.defineCommand('dmesg', {
    help: 'Print the kernel log (print, warn and kernel messages)',
    action() {
      for (const record of kernel.dmesg()) this.output.write(`${formatRecord(record)}\n`);
      this.displayPrompt();
    },
  });
  return new Promise((resolve) => server.once('exit', () => {
    streams.output.write('\n'); // leave the shell's prompt on a line of its own, as lua does at end of input
    resolve();
  }));
}
