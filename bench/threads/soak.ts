/*
 * Soak of kernel threads and the pool: 1,000 deadline kills in a row on one thread
 * (test/threads/kills.test.ts does 100), then asynchronous kills, then pool kills. After
 * each phase: every caller got -ETIME or its own value, the killed workers exited, the
 * OS thread count and the process memory came back. Exits non-zero on any failure.
 * `node dist/bench/threads/soak.js [kills]`.
 */
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { KernelPool, KernelThread, errno } from '../../src/index.js';
import { liveWorkers } from '../../src/sandbox/thread/incarnation.js';

const SMALL = { memory: { limit: 8 * 1024 * 1024 } };
const MiB = 1024 * 1024;

function osThreads(): number {
  try {
    return Number(/Threads:\s+(\d+)/.exec(readFileSync('/proc/self/status', 'utf8'))![1]);
  } catch {
    return -1;
  }
}

async function settle(cond: () => boolean, what: string): Promise<void> {
  const until = Date.now() + 60_000;
  while (!cond()) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

export interface SoakReport {
  kills: number;
  served: number;
  asyncKills: number;
  poolKills: number;
  osThreadsBefore: number;
  osThreadsAfter: number;
  rssGrowthMiB: number;
  seconds: number;
}

export async function soakThreads(kills = 1000, log: (line: string) => void = () => undefined): Promise<SoakReport> {
  const started = performance.now();
  const osThreadsBefore = osThreads();
  const failures: string[] = [];

  // 1. Synchronous deadline kills in a row, each followed by a caller expecting its own value.
  const thread = KernelThread.spawn({ ...SMALL, deadlineMs: 10 });
  const rssBefore = process.memoryUsage().rss;
  const out = new Uint8Array(256);
  let served = 0;
  for (let i = 0; i < kills; i++) {
    // Alternately a Lua loop through sysLua and a hang inside C (no hook fires) through exec.
    const rc = i % 2 === 0
      ? thread.sysLua('while true do end', 17, out, out.length)
      : thread.exec('return string.find(("a"):rep(1e4), ".-.-.-.-b$")').rc;
    if (rc !== -errno.ETIME) failures.push(`kill ${i}: rc ${rc}`);
    const mine = thread.exec(`return "caller ${i}"`);
    if (mine.value === `caller ${i}`) served++;
    else if (mine.rc !== -errno.ETIME) failures.push(`caller ${i}: ${JSON.stringify(mine)}`);
    if (i % 20 === 19) {
      await new Promise((r) => setImmediate(r));
      log(`  ${i + 1} kills, ${thread.info().kills} restarts, ${liveWorkers()} workers alive, rss ${(process.memoryUsage().rss / MiB).toFixed(0)} MiB`);
    }
  }

  // 2. Asynchronous kills: loops and values interleaved on the work queue.
  const asyncThread = KernelThread.spawn({ ...SMALL, deadlineMs: 10 });
  const asyncResults = await Promise.all(Array.from({ length: Math.ceil(kills / 5) }, (_, i) =>
    asyncThread.submit(i % 2 === 0 ? 'while true do end' : `return "item ${i}"`).then((r) => ({ i, r }))));
  for (const { i, r } of asyncResults) {
    if (i % 2 === 0 ? r.rc !== -errno.ETIME : r.rc !== -errno.ETIME && r.value !== `item ${i}`) failures.push(`async ${i}: ${JSON.stringify(r)}`);
  }
  const asyncKills = asyncThread.info().kills;

  // 3. Pool kills: the pool keeps its size.
  const pool = KernelPool.create({ ...SMALL, threads: 2, deadlineMs: 10 });
  const poolResults = await Promise.all(Array.from({ length: Math.ceil(kills / 5) }, (_, i) =>
    pool.exec(i % 2 === 0 ? 'while true do end' : `return "task ${i}"`).then((r) => ({ i, r }))));
  for (const { i, r } of poolResults) {
    if (i % 2 === 0 ? r.rc !== -errno.ETIME : r.rc !== -errno.ETIME && r.value !== `task ${i}`) failures.push(`pool ${i}: ${JSON.stringify(r)}`);
  }
  const poolKills = pool.info().kills;
  await settle(() => pool.info().threads === 2, 'the pool to be whole');

  await Promise.all([thread.close(), asyncThread.close(), pool.close()]);
  await settle(() => liveWorkers() === 0, 'every kernel-thread worker to exit');
  await settle(() => osThreadsBefore < 0 || osThreads() <= osThreadsBefore + 2, 'the OS threads to come back');
  const rssGrowthMiB = (process.memoryUsage().rss - rssBefore) / MiB;
  // A leaked worker holds an isolate and a Wasm memory: 1,000 of them would be gigabytes.
  if (rssGrowthMiB > 256) failures.push(`RSS grew by ${rssGrowthMiB.toFixed(0)} MiB`);
  if (served === 0) failures.push('no caller was served');
  if (failures.length > 0) throw new Error(`soak failed:\n${failures.slice(0, 20).join('\n')}`);
  return {
    kills, served, asyncKills, poolKills, osThreadsBefore, osThreadsAfter: osThreads(), rssGrowthMiB,
    seconds: (performance.now() - started) / 1000,
  };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const kills = Number(process.argv[2] ?? 1000);
  try {
    const report = await soakThreads(kills, (line) => console.log(line));
    console.log(JSON.stringify(report, null, 2));
  } catch (e) {
    console.error(e instanceof Error ? e.message : e);
    process.exitCode = 1;
  }
}
