/*
 * Issue 12 measured: many tenants in one process. Each variant runs in a fresh process
 * (one after the other, same run): lunatik as shipped, wasmoon with a factory per tenant
 * and with one shared factory. For each: the boot time of the 1st, 100th, 1,000th and 10,000th tenant
 * (median of the 100 boots before each), the full GCs during the boots, RSS and external
 * memory per live tenant, and what is left once all are shut down.
 * `node dist/bench/density/index.js [--quick]`; `run()` is what the main bench runner calls.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { writeResults, type Row } from '../lib/report.js';
import type { TenantRun, Variant } from './tenants.js';

const TENANTS = fileURLToPath(new URL('./tenants.js', import.meta.url));
const MiB = 1024 * 1024;

/** Median of the (at most) 100 boots up to and including boot n (1-based). */
function medianBefore(bootMs: readonly number[], n: number): number {
  const window = [...bootMs.slice(Math.max(0, n - 100), n)].sort((a, b) => a - b);
  return window[window.length >> 1]!;
}

function measure(variant: Variant, count: number): TenantRun {
  const out = execFileSync(process.execPath, ['--expose-gc', TENANTS, variant, String(count)], { encoding: 'utf8', maxBuffer: 64 * MiB });
  return JSON.parse(out.trim().split('\n').pop()!) as TenantRun;
}

export function run(options: { quick?: boolean; dir?: string | undefined } = {}): Row[] {
  const quick = options.quick ?? false;
  const dir = options.dir ?? (quick ? mkdtempSync(join(tmpdir(), 'lunatik-bench-')) : undefined);
  const full = quick ? 200 : 10_000;
  // wasmoon's image starts every instance with 16 MiB of memory (V8 counts it all as
  // external memory), so a factory per tenant collects more and more as tenants accumulate:
  // on a 2-core machine 10,000 of them take far longer than a bench should: fewer tenants.
  const fewer = quick ? 100 : 2_000;
  const counts: Record<Variant, number> = {
    'lunatik': full,
    'wasmoon-factory-per-tenant': fewer,
    'wasmoon-shared-factory': full,
  };
  const runs = (Object.keys(counts) as Variant[]).map((v) => measure(v, counts[v]));
  const milestones = quick ? [1, 100, 200] : [1, 100, 1_000, 10_000];
  // Baseline of a boot: wasmoon's shared factory at the same tenant count (the fastest way to make an engine, without isolation).
  const base = runs.find((r) => r.variant === 'wasmoon-shared-factory')!;
  const rows: Row[] = [];
  for (const r of runs) {
    for (const n of milestones.filter((m) => m <= r.count)) {
      const value = medianBefore(r.bootMs, n);
      const baseline = medianBefore(base.bootMs, n);
      const isTarget = r.variant.startsWith('lunatik') && n === milestones[milestones.length - 1];
      rows.push({
        what: `${r.variant}: boot of tenant ${n.toLocaleString('en')} (median of the ${Math.min(n, 100)} before)`,
        value: `${value.toFixed(2)} ms`,
        baseline: r === base ? '' : `${baseline.toFixed(2)} ms shared wasmoon`,
        ratio: r === base ? null : value / baseline,
        target: isTarget ? '≤ 3 ms' : '',
        ...(isTarget ? { ok: value <= 3 } : {}),
      });
    }
    const lunatik = r.variant.startsWith('lunatik');
    rows.push(
      { what: `${r.variant}: full GCs during ${r.count.toLocaleString('en')} boots`, value: String(r.fullGcs), baseline: '', ratio: null, target: lunatik ? '≤ 20' : '', ...(lunatik ? { ok: r.fullGcs <= 20 } : {}) },
      { what: `${r.variant}: RSS per live tenant`, value: `${(r.rssPerTenant / MiB).toFixed(3)} MiB`, baseline: '', ratio: null, target: lunatik ? '≤ 0.5 MiB' : '', ...(lunatik ? { ok: r.rssPerTenant <= 0.5 * MiB } : {}) },
      { what: `${r.variant}: external memory per live tenant`, value: `${(r.externalPerTenant / MiB).toFixed(3)} MiB`, baseline: '', ratio: null, target: '' },
      {
        what: `${r.variant}: RSS / external memory after all shut down, over after one warm-up tenant`,
        value: `${r.rssAfterRatio.toFixed(2)}x / ${r.externalAfterRatio.toFixed(2)}x`, baseline: '', ratio: null,
        target: lunatik ? '≤ 1.1x' : '', ...(lunatik ? { ok: r.rssAfterRatio <= 1.1 && r.externalAfterRatio <= 1.1 } : {}),
      },
    );
  }
  writeResults('density', 'Many tenants in one process (issue 12)', rows, [
    'each variant in a fresh process, one after the other in the same run; every tenant answers one call and stays alive; the event loop turns every 50 boots (so GC entries arrive, as in a service)',
    'full GCs: PerformanceObserver entries of kind major (mark-compact); memory per tenant: (after the boots - before) / tenants, after a forced GC',
    'wasmoon-shared-factory: one Wasm instance and one memory for every engine, so tenants share a heap (no isolation between them); a factory per tenant is the isolated comparison, run with fewer tenants',
    `tenants: ${(Object.keys(counts) as Variant[]).map((v) => `${v} ${counts[v].toLocaleString('en')}`).join(', ')}; machine shared with other jobs (2 cores)`,
    'command: npm run build && node dist/bench/density/index.js',
  ], dir);
  return rows;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) run({ quick: process.argv.includes('--quick') });
