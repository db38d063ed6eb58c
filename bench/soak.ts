/*
 * Soak: many sysLua calls on one kernel must leave the pool where the first round left
 * it: no page, no function-table slot, no log growth beyond the ring. `npm run soak`
 * runs 100,000 calls; the test suite runs a short version through `soak(n)`.
 */
import { pathToFileURL } from 'node:url';
import { Kernel } from '../src/index.js';

/** Scripts of every outcome: values, errors, memory exhaustion, modules, coroutines. */
export const SOAK_SCRIPTS: readonly string[] = [
  'return type({ 123 })',
  'local t = {} for i = 1, 200 do t[i] = tostring(i) .. "x" end return #t',
  'counter = (counter or 0) + 1 return counter',
  'error("boom")',
  'error({ code = 1 })',
  'return {}',
  'return x x',
  'local s = string.rep("x", 1 << 16) return #s',
  'local parts = {} while true do parts[#parts + 1] = string.rep("y", 4096) end',
  'local co = coroutine.wrap(function() for i = 1, 3 do coroutine.yield(i) end end) return co() + co() + co()',
  'printk("<6>soak %d", 1) print("soak")',
  'return gc_count() >= 0',
  'local ok, e = pcall(error, "inner") return e',
  'return string.format("%5.2f|%s", 1 / 3, "s")',
  'local b = buffer and buffer.new(64) return b and #b or 0',
  'return crypto and #crypto.sha1(buffer.new(100)) or 20',
];

export interface SoakReport {
  calls: number;
  pagesAfterFirstRound: number;
  pagesAtEnd: number;
  slotsAfterFirstRound: number;
  slotsAtEnd: number;
  leaks: number;
}

export function soak(calls: number, kernel = Kernel.boot({ memory: { limit: 4 * 1024 * 1024 } })): SoakReport {
  const out = new Uint8Array(256);
  const call = (i: number) => {
    const code = SOAK_SCRIPTS[i % SOAK_SCRIPTS.length]!;
    kernel.sysLua(code, Buffer.byteLength(code), out, out.length);
  };
  // Two double rounds first, each ended by a full collection: the chunk cache keeps a source
  // from its second run on, the ENOMEM script empties it, and the state's tables reach their
  // steady sizes only once a collection and a refill have happened (measured: a one-time
  // +128..256 bytes in the second double round, then flat for good).
  for (let warm = 0; warm < 2; warm++) {
    for (let i = 0; i < 2 * SOAK_SCRIPTS.length; i++) call(i);
    kernel.gc();
  }
  const pagesAfterFirstRound = kernel.gc();
  const slots = () => (kernel as unknown as { machine: { image: { functions: { length: number } } } }).machine.image.functions.length;
  const slotsAfterFirstRound = slots();
  // Whole double rounds, so the end is at the same point of the cycle as the start (the
  // ENOMEM script empties the chunk cache, which then refills over the next two rounds).
  const round = 2 * SOAK_SCRIPTS.length;
  calls = Math.ceil(calls / round) * round;
  for (let i = 0; i < calls; i++) call(i);
  const pagesAtEnd = kernel.gc();
  const report = { calls, pagesAfterFirstRound, pagesAtEnd, slotsAfterFirstRound, slotsAtEnd: slots(), leaks: kernel.shutdown().leaks.length };
  return report;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const calls = Number(process.argv[2] ?? 100_000);
  const started = performance.now();
  const report = soak(calls);
  console.log({ ...report, seconds: ((performance.now() - started) / 1000).toFixed(1) });
  const ok = report.pagesAtEnd === report.pagesAfterFirstRound && report.slotsAtEnd === report.slotsAfterFirstRound && report.leaks === 0;
  console.log(ok ? 'soak: no growth' : 'soak: GROWTH DETECTED');
  process.exitCode = ok ? 0 : 1;
}
