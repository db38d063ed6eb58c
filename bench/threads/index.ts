/*
 * Issue 5 measured: kernel threads, the instruction budget and the pool, in one run.
 * `node dist/bench/threads/index.js [--quick]`; `run()` is what the main bench runner calls.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ms, us, writeResults, type Row } from '../lib/report.js';
import { measureBudget } from './budget.js';
import { measureKillCost } from './kill-cost.js';
import { measurePoolThroughput } from './pool-throughput.js';
import { measureSyncOverhead } from './sync-overhead.js';

export async function run(options: { quick?: boolean; dir?: string | undefined } = {}): Promise<Row[]> {
  const quick = options.quick ?? false;
  // A quick run's figures mean nothing: they never replace bench/results/threads.md.
  const dir = options.dir ?? (quick ? mkdtempSync(join(tmpdir(), 'lunatik-bench-')) : undefined);
  const sync = measureSyncOverhead(quick ? 1 : 5, quick ? 0.05 : 0.5);
  const budget = measureBudget(quick ? 1 : 5, quick);
  const pool = await measurePoolThroughput(quick ? 1 : 7, quick);
  const kill = await measureKillCost(quick ? 3 : 20);

  const added = sync.thread - sync.kernel;
  const rows: Row[] = [
    {
      what: 'sysLua `return type({ 123 })` through a KernelThread: added per call',
      value: us(added), baseline: `${us(sync.kernel)} in-thread`, ratio: sync.thread / sync.kernel, target: '≤ 8 us added', ok: added <= 8e-6,
    },
    {
      what: 'exec (same script) through a KernelThread: added per call',
      value: us(sync.threadExec - sync.kernelExec), baseline: `${us(sync.kernelExec)} in-thread`, ratio: sync.threadExec / sync.kernelExec, target: '',
    },
    ...budget.map((b): Row => ({
      what: `${b.name}: instruction budget on vs off`, value: ms(b.on), baseline: ms(b.off), ratio: b.on / b.off, target: 'reported',
    })),
    {
      what: `pool throughput, ${pool.tasks} CPU-bound tasks: 2 threads vs 1 (median of ${pool.rounds.length} rounds)`,
      value: `${(pool.tasks / pool.two).toFixed(1)} tasks/s`, baseline: `${(pool.tasks / pool.one).toFixed(1)} tasks/s`, ratio: pool.speedup, target: '≥ 1.7x', ok: pool.speedup >= 1.7,
    },
    { what: 'KernelThread.spawn (worker, imports, boot)', value: ms(kill.spawn), baseline: '', ratio: null, target: '' },
    { what: `deadline kill + replacement (the standby, booted beforehand) until its first answer (beyond the ${kill.deadlineMs} ms deadline)`, value: ms(kill.replace), baseline: '', ratio: null, target: '≤ 50 ms', ok: kill.replace <= 0.05 },
  ];
  writeResults('threads', 'Kernel threads, instruction budget and pool (issue 5)', rows, [
    `sync overhead: the round trip is copy_from_user into a SharedArrayBuffer, Atomics.notify, the worker's sysLua, Atomics.wait until DONE, snprintf out; both sides poll the shared word briefly before sleeping while polling pays (src/sandbox/thread/spin.ts), which it does only with a free core each: on a loaded machine a round trip costs 10-25 us; measured against Kernel.sysLua in the same run (${us(sync.thread)} vs ${us(sync.kernel)} per call)`,
    'instruction budget: fuel compiled into the image (wasm/lua/lunatik/lfuel.c) is counted on every instruction whether a budget is set or not; "on" adds a soft time limit, so the image asks the kernel for fuel about every million units and the kernel reads the clock; a deadline (KernelThread) costs nothing per instruction',
    `pool rounds (1-thread time / 2-thread time): ${pool.rounds.map((r) => r.toFixed(2)).join(', ')}`,
    'command: npm run build && node dist/bench/threads/index.js',
  ], dir);
  return rows;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await run({ quick: process.argv.includes('--quick') });
