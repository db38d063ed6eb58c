#!/usr/bin/env node
/*
 * `lunatik`: the lua interpreter's command line over a lunatik-wasm kernel.
 * Parsing is in args.ts (option table: options.ts), running in run.ts, the REPL in repl.ts.
 */
import { main } from './run.js';

// `lunatik ... | head` closes the pipe early: that is the reader's choice, not an error.
process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  if (e.code !== 'EPIPE') throw e;
  process.exit(process.exitCode ?? 0);
});

process.exitCode = await main(process.argv.slice(2), { stdin: process.stdin, stdout: process.stdout, stderr: process.stderr });
