/*
 * The quick variants of the benchmark suites, as CI runs them: each must finish and
 * produce its table with a figure for every row. Timings are never asserted here.
 */
import test from 'ava';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { run as runBindings } from '../../bench/bindings/index.js';
import { run as runKernel } from '../../bench/kernel/index.js';
import type { Row } from '../../bench/lib/report.js';
import { run as runThreads } from '../../bench/threads/index.js';
import { run as runValues } from '../../bench/values/index.js';

function checkRows(t: import('ava').ExecutionContext, rows: Row[], dir: string, name: string): void {
  t.true(rows.length > 0);
  for (const row of rows) t.true(row.ratio === null || Number.isFinite(row.ratio) && row.ratio > 0, row.what);
  t.true(existsSync(join(dir, `${name}.md`)));
  t.is(JSON.parse(readFileSync(join(dir, `${name}.json`), 'utf8')).rows.length, rows.length);
}

test.serial('kernel suite (quick)', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'lunatik-bench-test-'));
  checkRows(t, runKernel({ quick: true, dir }), dir, 'kernel');
});

test.serial('bindings suite (quick)', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'lunatik-bench-test-'));
  checkRows(t, runBindings({ quick: true, dir }), dir, 'bindings');
});

test.serial('threads suite (quick)', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'lunatik-bench-test-'));
  checkRows(t, await runThreads({ quick: true, dir }), dir, 'threads');
});

test.serial('values suite (quick)', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'lunatik-bench-test-'));
  checkRows(t, await runValues({ quick: true, dir }), dir, 'values');
});
