/*
 * The interactive loop, as lua.c's doREPL: prompt `> `, continuation `>> `; a first line
 * `=expr` means `return expr`; a first line is tried as an expression (`return <line>`)
 * first, then as statements; a syntax error ending in `<eof>` means the input is
 * incomplete and the next line is added to it. The values are printed as print would
 * (tables as Lua literals), errors and their traceback go to stderr. Chunks are named
 * `stdin`, as in lua. Driven by node:readline, which keeps the session's history.
 */
import { createInterface } from 'node:readline';
import { errno } from '../sandbox/errno.js';
import type { Kernel, ShowResult } from '../sandbox/kernel.js';
import { describeFailure, valuesLine } from './format.js';

export interface ReplStreams {
  readonly input: NodeJS.ReadableStream & { isTTY?: boolean };
  readonly output: NodeJS.WritableStream & { isTTY?: boolean };
  readonly errors: NodeJS.WritableStream;
}

const CHUNK_NAME = 'stdin';
const PROMPT = '> ';
const CONTINUATION = '>> ';

const KEYWORDS = ['and', 'break', 'do', 'else', 'elseif', 'end', 'false', 'for', 'function', 'goto', 'if', 'in',
  'local', 'nil', 'not', 'or', 'repeat', 'return', 'then', 'true', 'until', 'while'];

const HELP = [
  'Type Lua statements or expressions; an expression (or =expr) prints its values.',
  'An incomplete statement continues on the next line (prompt >>).',
  '  .help   show this help',
  '  .exit   leave (as does Ctrl-D)',
  '',
].join('\n');

/** Lua's test for input that is incomplete rather than wrong. */
export function isIncomplete(result: ShowResult): boolean {
  return result.rc === -errno.ENOEXEC && result.error !== undefined && result.error.endsWith('<eof>');
}

/** Starts the REPL; resolves when it ends (.exit, Ctrl-D, end of input). */
export function startRepl(kernel: Kernel, streams: ReplStreams): Promise<void> {
  const terminal = streams.input.isTTY === true && streams.output.isTTY === true;
  const rl = createInterface({
    input: streams.input,
    output: streams.output,
    terminal,
    historySize: 1000,
    completer: (line: string) => {
      const word = /[A-Za-z_]\w*$/.exec(line)?.[0] ?? '';
      return [word === '' ? [] : KEYWORDS.filter((k) => k.startsWith(word)), word];
    },
  });
  let pending: string | null = null; // the lines of an incomplete chunk so far
  let closed = false; // readline still hands over the lines it had read when .exit closed it

  const run = (code: string): ShowResult => kernel.show(code, { name: CHUNK_NAME, traceback: true, args: [] });
  const report = (result: ShowResult): void => {
    if (result.rc < 0) streams.errors.write(`${describeFailure(result)}\n`);
    else streams.output.write(valuesLine(result.values ?? []));
  };

  const onLine = (line: string): void => {
    if (pending === null) {
      if (line.trim() === '.exit') return void rl.close();
      if (line.trim() === '.help') return void streams.output.write(HELP);
      const code = line.startsWith('=') ? `return ${line.slice(1)}` : line;
      const asExpression = run(`return ${code}`);
      if (asExpression.rc !== -errno.ENOEXEC) return report(asExpression);
      pending = code;
    } else {
      pending += `\n${line}`;
    }
    const result = run(pending);
    if (isIncomplete(result)) return;
    pending = null;
    report(result);
  };

  rl.on('line', (line) => {
    if (closed) return;
    onLine(line);
    if (closed) return;
    rl.setPrompt(pending === null ? PROMPT : CONTINUATION);
    rl.prompt();
  });
  // Ctrl-C drops the input so far, as lua's readline does, rather than leaving.
  rl.on('SIGINT', () => {
    pending = null;
    streams.output.write('\n');
    rl.setPrompt(PROMPT);
    rl.prompt();
  });
  rl.setPrompt(PROMPT);
  rl.prompt();
  return new Promise((resolve) => rl.once('close', () => {
    closed = true;
    streams.output.write('\n'); // leave the shell's prompt on a line of its own, as lua does at the end
    resolve();
  }));
}
