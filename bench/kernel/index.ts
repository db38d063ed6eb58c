/*
 * Issues 2 and 3 measured: the kernel against the same work done straight on the image's
 * exports (bench/kernel/baselines.ts), in the same process and run.
 */
import { pathToFileURL } from 'node:url';
import { Kernel } from '../../src/index.js';
import { measure, timeRuns } from '../lib/measure.js';
import { ms, us, writeResults, type Row } from '../lib/report.js';
import { ALLOC_WORKLOAD } from './alloc-workload.js';
import { rawLua } from './baselines.js';

const TINY = 'return type({ 123 })';

export function run(options: { quick?: boolean; dir?: string | undefined } = {}): Row[] {
  const rounds = options.quick ? 1 : 3;
  const maxTime = options.quick ? 0.05 : 0.5;
  const raw = rawLua();
  const kernel = Kernel.boot();
  const unlimited = Kernel.boot({ limits: { instructions: Infinity } });
  const isolated = Kernel.boot({ isolate: true });
  const out = new Uint8Array(64);
  let unique = 0;
  const times = measure([
    { name: 'raw', fn: () => raw.call(TINY) },
    // The same distinct sources as kernel-uncached, so both pay for making the strings.
    { name: 'raw-unique', fn: () => raw.call(`${TINY} -- ${unique++}`) },
    { name: 'kernel', fn: () => kernel.sysLua(TINY, TINY.length, out, out.length) },
    { name: 'kernel-unlimited', fn: () => unlimited.sysLua(TINY, TINY.length, out, out.length) },
    {
      name: 'kernel-uncached',
      fn: () => {
        // A different source each time: every call compiles, as the baseline does.
        const code = `${TINY} -- ${unique++}`;
        kernel.sysLua(code, code.length, out, out.length);
      },
    },
    { name: 'raw-fresh', fn: () => raw.freshStateCall(TINY) },
    { name: 'isolate', fn: () => isolated.sysLua(TINY, TINY.length, out, out.length) },
    { name: 'boot-64MiB', fn: () => Kernel.boot().shutdown() },
    { name: 'boot-8MiB', fn: () => Kernel.boot({ memory: { limit: 8 * 1024 * 1024 } }).shutdown() },
  ], rounds, maxTime);
  const t = (name: string) => times.get(name)!;

  const workloadRuns = options.quick ? 1 : 5;
  const allocKernel = Kernel.boot();
  const rawWorkload = timeRuns(() => raw.call(ALLOC_WORKLOAD), workloadRuns);
  const poolWorkload = timeRuns(() => allocKernel.exec(ALLOC_WORKLOAD), workloadRuns);
  const stats = allocKernel.lastStats!;
  const result = allocKernel.exec(ALLOC_WORKLOAD);
  if (result.rc < 0) throw new Error(`workload failed: ${result.error}`);
  const buddy = allocKernel.buddyinfo();

  const rows: Row[] = [
    row('sysLua `return type({ 123 })`, persistent (chunk cache hit)', t('kernel'), t('raw'), 1.25),
    row('  same, default instruction budget vs none (`instructions: Infinity`)', t('kernel'), t('kernel-unlimited'), 1.05),
    row('sysLua, a new source every call (compiles every time, as the baseline does)', t('kernel-uncached'), t('raw-unique'), 1.25),
    row('isolate: fresh state per call', t('isolate'), t('raw-fresh'), 1.2),
    { what: 'Kernel.boot + shutdown, 64 MiB pool (default)', value: ms(t('boot-64MiB')), baseline: '3 ms', ratio: t('boot-64MiB') / 0.003, target: '≤ 3 ms', ok: t('boot-64MiB') <= 0.003 },
    { what: 'Kernel.boot + shutdown, 8 MiB pool', value: ms(t('boot-8MiB')), baseline: '3 ms', ratio: t('boot-8MiB') / 0.003, target: '≤ 3 ms', ok: t('boot-8MiB') <= 0.003 },
    {
      what: 'binary-trees(15) + 200k formatted strings: page pool vs image malloc',
      value: ms(poolWorkload), baseline: ms(rawWorkload), ratio: poolWorkload / rawWorkload, target: '≤ 1.10x', ok: poolWorkload / rawWorkload <= 1.1,
    },
  ];
  const allocsPerSecond = stats.allocations / stats.wallTimeMs! * 1000;
  writeResults('kernel', 'Kernel core and page allocator (issues 2 and 3)', rows, [
    `baseline for sysLua: luaL_loadbufferx + lua_pcallk + lua_tolstring on a luaL_newstate state, no checks (${us(t('raw'))}; ${us(t('raw-unique'))} with a new source string every call)`,
    `baseline for isolate: luaL_newstate + the libraries + the call + lua_close (${us(t('raw-fresh'))})`,
    `workload through the pool: ${(stats.allocations / 1e6).toFixed(2)} M allocations (${(stats.allocatedBytes / 1e6).toFixed(0)} MB) in ${stats.wallTimeMs!.toFixed(0)} ms: ${(allocsPerSecond / 1e6).toFixed(1)} M allocations/s; peak ${(stats.peakBytes / 1e6).toFixed(1)} MB`,
    `free blocks per buddy order after the workload (fragmentation): ${buddy.join(' ')}`,
  ], options.dir);
  for (const k of [kernel, unlimited, isolated, allocKernel]) k.shutdown();
  return rows;
}

function row(what: string, value: number, baseline: number, target: number): Row {
  const ratio = value / baseline;
  return { what, value: us(value), baseline: us(baseline), ratio, target: `≤ ${target}x`, ok: ratio <= target };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) run({ quick: process.argv.includes('--quick') });
