// Every workload must compute the same checksum on every engine (at a tiny scale), otherwise
// the comparison would time different work. Asserts results only, never timings.
import test from 'ava';
import { run as fengari } from '../../bench/engines/fengari.js';
import { nativeAvailable, run as native } from '../../bench/engines/native.js';
import { run as wasmoon } from '../../bench/engines/wasmoon.js';
import { QUICK_SCALE, WORKLOADS, workloadSource } from '../../bench/workloads/index.js';
import type { Outcome } from '../../bench/compare/outcome.js';
import { renderMarkdown } from '../../bench/compare/report-md.js';
import { renderSvg } from '../../bench/compare/report-svg.js';
import { type Report, goals, summarize } from '../../bench/compare/report.js';
import { RESULTS_DIR, parseCompareArgs } from '../../bench/compare/run.js';
import { END, START, headline, renderSection, replaceSection } from '../../bench/compare/readme.js';
import { DEFAULT_ENGINES, childEnv } from '../../bench/engines/index.js';

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

test('the comparison parses its options with node:util', (t) => {
  const full = parseCompareArgs([]);
  t.is(full.runs, 5);
  t.false(full.quick);
  t.deepEqual(full.engines, [...DEFAULT_ENGINES]);
  t.deepEqual(full.workloads, [...WORKLOADS]);
  t.is(full.outDir, RESULTS_DIR);
  const quick = parseCompareArgs(['--quick', '--engines', 'native,lunatik-baseline', '--workloads', 'fib', '--out', '/tmp/x']);
  t.is(quick.runs, 1);
  t.deepEqual(quick.engines, ['native', 'lunatik-baseline']);
  t.deepEqual(quick.workloads, ['fib']);
  t.is(quick.outDir, '/tmp/x');
  t.not(parseCompareArgs(['--quick']).outDir, RESULTS_DIR, 'a quick run never overwrites the real results');
  t.is(parseCompareArgs(['--quick', '--runs', '3']).runs, 3);
  t.throws(() => parseCompareArgs(['--runs', '0']), { message: /--runs/ });
  t.throws(() => parseCompareArgs(['--engines', 'luajit']), { message: /unknown engine luajit/ });
  t.throws(() => parseCompareArgs(['--workloads', 'mandelbrot']), { message: /unknown workload mandelbrot/ });
  t.throws(() => parseCompareArgs(['--frobnicate']));
  t.throws(() => parseCompareArgs(['--runs']));
});

test('only the compile-strategy engines carry LUNATIK_WASM_COMPILE', (t) => {
  const env = { PATH: '/bin', LUNATIK_WASM_COMPILE: 'optimized' };
  t.is(childEnv('lunatik', env)['LUNATIK_WASM_COMPILE'], undefined);
  t.is(childEnv('lunatik-baseline', env)['LUNATIK_WASM_COMPILE'], 'baseline');
  t.is(childEnv('lunatik-optimized', {})['LUNATIK_WASM_COMPILE'], 'optimized');
  t.is(childEnv('wasmoon', env)['PATH'], '/bin');
});

function syntheticReport(): Report {
  const ok = (ms: number, extra: object = {}): Outcome => ({ status: 'ok', result: '55', ms, cpuMs: ms, createMs: 1, ...extra });
  const raw = new Map([
    ['native', new Map([['fib', [ok(100)]], ['n-body', [ok(100)]]])],
    ['lunatik', new Map([['fib', [ok(120, { createAgainMs: 0.5, createBesideMs: 4 })]], ['n-body', [ok(210, { createAgainMs: 0.7, createBesideMs: 5 })]]])],
    ['wasmoon', new Map([['fib', [ok(400)]], ['n-body', [ok(400)]]])],
    ['fengari', new Map([['fib', [ok(3000)]], ['n-body', [ok(2000)]]])],
  ]) as Parameters<typeof summarize>[0];
  const s = summarize(raw, ['native', 'lunatik', 'wasmoon', 'fengari'], ['fib', 'n-body'], new Map());
  return {
    generated: '2026-01-01T00:00:00.000Z', machine: { cpu: 'x', cores: 2, node: 'v20' }, runs: 1, quick: false,
    startup: [{ name: 'lunatik', command: 'lunatik -e', medianMs: 120 }, { name: 'lua5.4', command: 'lua5.4 -e', medianMs: 2 }],
    ...s,
  };
}

test('the goals of issue 6 are checked against a report', (t) => {
  const r = syntheticReport();
  const lunatik = r.engines.find((e) => e.name === 'lunatik')!;
  t.is(lunatik.geomean!.toFixed(4), Math.sqrt(1.2 * 2.1).toFixed(4));
  t.deepEqual(lunatik.worst, { workload: 'n-body', ratio: 2.1 });
  const g = goals(r);
  t.is(g.length, 7);
  t.false(g[0]!.ok!, 'geomean 1.59x > 1.5x');
  t.false(g[1]!.ok!, 'n-body 2.1x > 2x');
  t.true(g[2]!.ok!, 'wasmoon 4x/1.59x');
  t.true(g[3]!.ok!, 'fengari');
  t.true(g[4]!.ok!, 'boot after shutdown 0.6 ms');
  t.false(g[5]!.ok!, 'boot beside 4.5 ms');
  t.true(g[6]!.ok!, 'CLI 120 ms');
  t.regex(renderMarkdown(r), /## Goals \(issue 6\)[\s\S]*\| \*\*no\*\* \|/);
});

test('the README section is replaced between its markers, and only there', (t) => {
  const r = syntheticReport();
  const readme = `# x\n\n## Performance\n\n${START}\nold text\n${END}\n\n## Layout\n`;
  const section = renderSection(r, '/repo/bench/results', '/repo/README.md');
  t.regex(section, /!\[[^\]]*\]\(bench\/results\/compare\.svg\)/);
  t.regex(section, /\| fib\(32\) x5 \|/);
  t.regex(headline(r), /1\.59x native Lua 5\.4.*faster than wasmoon's engine.*faster than fengari.*`return 1` in 120 ms/);
  const once = replaceSection(readme, section);
  t.true(once.startsWith(`# x\n\n## Performance\n\n${START}\n`));
  t.true(once.endsWith(`${END}\n\n## Layout\n`));
  t.false(once.includes('old text'));
  t.is(replaceSection(once, section), once, 'idempotent');
  t.throws(() => replaceSection('# no markers\n', section), { message: /markers/ });
});
