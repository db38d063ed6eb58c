// Every workload must compute the same checksum on every engine (at a tiny scale), otherwise
// the comparison would time different work. Asserts results only, never timings.
import test from 'ava';
import { run as fengari } from '../../bench/engines/fengari.js';
import { nativeAvailable, run as native } from '../../bench/engines/native.js';
import { run as wasmoon } from '../../bench/engines/wasmoon.js';
import { QUICK_SCALE, WORKLOADS, workloadSource } from '../../bench/workloads/index.js';
import type { Outcome } from '../../bench/compare/outcome.js';
import { summarize } from '../../bench/compare/report.js';
import { renderMarkdown } from '../../bench/compare/report-md.js';
import { renderSvg } from '../../bench/compare/report-svg.js';

const hasNative = nativeAvailable();

for (const w of WORKLOADS) {
  test(`${w}: same checksum on wasmoon, fengari${hasNative ? ' and native lua5.4' : ''}`, async (t) => {
    const source = workloadSource(w, QUICK_SCALE[w]);
    const a = await wasmoon(source);
    const b = await fengari(source);
    t.true(a.result.length > 0);
    t.is(b.result, a.result, 'fengari differs from wasmoon');
    if (hasNative) t.is((await native(source)).result, a.result, 'native differs from wasmoon');
  });
}

test('a wrong result is flagged and shown in the reports', (t) => {
  const ok = (result: string, ms: number): Outcome => ({ status: 'ok', result, ms, createMs: 1 });
  const raw = new Map([
    ['native', new Map([['fib', [ok('55', 10)]]])],
    ['wasmoon', new Map([['fib', [ok('55', 30)]]])],
    ['fengari', new Map([['fib', [ok('56', 200)]]])],
  ]) as Parameters<typeof summarize>[0];
  const s = summarize(raw, ['native', 'wasmoon', 'fengari'], ['fib'], new Map());
  t.is(s.cells.find((c) => c.engine === 'wasmoon')?.ratio, 3);
  t.is(s.cells.find((c) => c.engine === 'fengari')?.matches, false);
  t.true(s.notes.some((n) => n.startsWith('MISMATCH fengari')));
  const report = {
    generated: 'now', machine: { cpu: 'x', cores: 1, node: 'v20' }, runs: 1, quick: true, startup: [], ...s,
  };
  t.regex(renderMarkdown(report), /MISMATCH/);
  t.regex(renderSvg(report), /^<svg[\s\S]*mismatch[\s\S]*<\/svg>\n$/);
});
