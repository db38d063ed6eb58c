/*
 * One density run in a process of its own (bench/density/index.ts starts it):
 * `node --expose-gc dist/bench/density/tenants.js <variant> <count>` boots `count` tenants
 * one after the other, keeps each alive after it answered one call, and prints one JSON
 * line: every boot's time, the full GCs seen during the boots, RSS and external memory per
 * live tenant, and (for lunatik) the same once all are shut down.
 */
import { PerformanceObserver, constants } from 'node:perf_hooks';
import { LuaFactory, type LuaEngine } from 'wasmoon';
import { Kernel } from '../../src/index.js';

export type Variant = 'lunatik' | 'wasmoon-factory-per-tenant' | 'wasmoon-shared-factory';

export interface TenantRun {
  variant: Variant;
  count: number;
  bootMs: number[];
  fullGcs: number;
  rssPerTenant: number;
  externalPerTenant: number;
  /** After every tenant was shut down (and a GC): RSS and external memory over their values before (after one warm-up tenant). */
  rssAfterRatio: number;
  externalAfterRatio: number;
}

const gc = (globalThis as { gc?: () => void }).gc ?? (() => undefined);
const turn = (): Promise<void> => new Promise((r) => setImmediate(r));

async function settle(): Promise<NodeJS.MemoryUsage> {
  for (let i = 0; i < 3; i++) {
    gc();
    await new Promise((r) => setTimeout(r, 50));
  }
  return process.memoryUsage();
}

async function main(variant: Variant, count: number): Promise<TenantRun> {
  const shared = variant === 'wasmoon-shared-factory' ? new LuaFactory() : null;
  let fullGcs = 0;
  const observer = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) if ((e as unknown as { detail: { kind: number } }).detail.kind === constants.NODE_PERFORMANCE_GC_MAJOR) fullGcs++;
  });
  // Where a process that runs tenants starts: one tenant booted, served and shut down (the
  // compiled image, recycled instances and the like are the process's, not a tenant's).
  if (variant.startsWith('lunatik')) Kernel.boot().shutdown();
  else await (shared ?? new LuaFactory()).createEngine().then((e) => e.global.close());
  const before = await settle();
  observer.observe({ entryTypes: ['gc'] });
  const kernels: Kernel[] = [];
  const engines: LuaEngine[] = [];
  const bootMs: number[] = [];
  for (let i = 0; i < count; i++) {
    const code = `tenant = ${i} return tenant`;
    let value: unknown;
    const t0 = performance.now();
    if (variant === 'lunatik') {
      const kernel = Kernel.boot();
      bootMs.push(performance.now() - t0);
      value = kernel.exec(code).value;
      kernels.push(kernel);
    } else {
      const engine = await (shared ?? new LuaFactory()).createEngine();
      bootMs.push(performance.now() - t0);
      value = await engine.doString(code);
      engines.push(engine);
    }
    if (String(value) !== String(i)) throw new Error(`tenant ${i} answered ${String(value)}`);
    if (i % 50 === 49) await turn(); // a service's event loop turns between tenants: GC entries arrive
  }
  await turn();
  observer.disconnect(); // the forced collections below are not the boots'
  const live = await settle();
  for (const kernel of kernels.splice(0)) kernel.shutdown();
  for (const engine of engines.splice(0)) engine.global.close();
  const after = await settle();
  return {
    variant,
    count,
    bootMs,
    fullGcs,
    rssPerTenant: (live.rss - before.rss) / count,
    externalPerTenant: (live.external - before.external) / count,
    rssAfterRatio: after.rss / before.rss,
    externalAfterRatio: after.external / before.external,
  };
}

const [variant, count] = process.argv.slice(2);
console.log(JSON.stringify(await main(variant as Variant, Number(count))));
