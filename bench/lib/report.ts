/*
 * A suite's result: a markdown table printed to the console and written, with the raw
 * figures as JSON, under bench/results/ so runs can be compared.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface Row {
  what: string;
  value: string;
  baseline: string;
  ratio: number | null;
  target: string;
  /** Whether the target holds (undefined when there is no target). */
  ok?: boolean;
}

export const RESULTS_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'bench', 'results');

export function markdown(title: string, rows: readonly Row[], notes: readonly string[] = []): string {
  const lines = [
    `## ${title}`,
    '',
    '| measurement | value | baseline | ratio | target | holds |',
    '|---|--:|--:|--:|---|---|',
    ...rows.map((r) => `| ${r.what} | ${r.value} | ${r.baseline} | ${r.ratio === null ? '' : `${r.ratio.toFixed(2)}x`} | ${r.target} | ${r.ok === undefined ? '' : r.ok ? 'yes' : '**no**'} |`),
    '',
    ...notes.map((n) => `- ${n}`),
  ];
  return `${lines.join('\n')}\n`;
}

/** Prints the table and writes bench/results/<name>.md and .json. */
export function writeResults(name: string, title: string, rows: readonly Row[], notes: readonly string[] = [], dir = RESULTS_DIR): string {
  const md = markdown(title, rows, notes);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, `${name}.md`), `${md}\n_Measured ${new Date().toISOString()} on ${process.version}, median of interleaved rounds._\n`);
  writeFileSync(join(dir, `${name}.json`), `${JSON.stringify({ title, rows, notes, date: new Date().toISOString(), node: process.version }, null, 2)}\n`);
  console.log(md);
  return md;
}

export function us(seconds: number): string {
  return `${(seconds * 1e6).toFixed(2)} us`;
}

export function ms(seconds: number): string {
  return `${(seconds * 1e3).toFixed(2)} ms`;
}
