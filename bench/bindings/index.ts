/*
 * Issue 4 measured, every figure against its baseline in the same process and run:
 *   1. buffer element access (a Lua loop writing and reading buf[i]) vs the same loop on a
 *      plain Lua table; beside it the same loop through the JavaScript bindings alone and
 *      through empty Lua-function metamethods (what any metamethod costs in this VM);
 *   2. crypto.sha1 throughput on 4 KiB and 1 MiB buffers vs @noble/hashes called directly on
 *      a Uint8Array, with node:crypto's figure beside it;
 *   3. printk records per second into the ring buffer from a Lua loop.
 *
 *   node dist/bench/bindings/index.js [--quick]     (writes bench/results/bindings.md and .json;
 *                                                    --quick: tiny runs, results to a temp folder)
 */
import { sha1 } from '@noble/hashes/legacy.js';
import { createHash } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Kernel } from '../../src/index.js';
import { bufferModule } from '../../src/bindings/buffer.js';
import { builtinModules } from '../../src/bindings/builtin.js';
import { measure } from '../lib/measure.js';
import { writeResults, type Row } from '../lib/report.js';

/** One loop body for every container (the global `name`): write every element, then read them all back. */
function accessLoop(name: string, n: number, rounds: number): string {
  return `local b = ${name}
    local s = 0
    for r = 1, ${rounds} do
      for i = 1, ${n} do b[i] = (i + r) & 255 end
      for i = 1, ${n} do s = s + b[i] end
    end
    return s`;
}

/** Made once, outside the measured loop. */
const CONTAINERS = {
  table: (n: number) => `local b = {} for i = 1, ${n} do b[i] = 0 end return b`,
  buffer: (n: number) => `return buffer.new(${n})`,
  // The VM's own cost of a metamethod call: empty Lua functions (a C function costs the same).
  floor: () => 'return setmetatable({}, { __index = function() return 0 end, __newindex = function() end })',
};

function exec(kernel: Kernel, code: string): void {
  const r = kernel.exec(code);
  if (r.rc < 0) throw new Error(`bench script failed: ${r.error}`);
}

function ns(seconds: number): string {
  return `${(seconds * 1e9).toFixed(1)} ns`;
}

function mbps(bytesPerOp: number, seconds: number): string {
  return `${(bytesPerOp / seconds / 1e6).toFixed(0)} MB/s`;
}

export function run(options: { quick?: boolean; dir?: string | undefined } = {}): Row[] {
  const quick = options.quick ?? false;
  const rounds = quick ? 1 : 5;
  const maxTime = quick ? 0.05 : 0.5;
  const kernel = Kernel.boot({ memory: { limit: 256 * 1024 * 1024 } });
  // What production kernels for untrusted scripts run with: an instruction budget, so Lua's
  // count hook is on and every VM instruction costs more (a table access as much as a call).
  const budgeted = Kernel.boot({ memory: { limit: 256 * 1024 * 1024 }, limits: { instructions: 1e12 } });
  const jsKernel = Kernel.boot({
    memory: { limit: 256 * 1024 * 1024 },
    modules: builtinModules.map((m) => (m.name === 'buffer' ? bufferModule({ fastPath: false }) : m)),
  });

  // 1. Element access: n elements, enough rounds for ~64k accesses per call.
  const sizes = quick ? [4096] : [4096, 1024 * 1024];
  const accessCases = sizes.flatMap((n) => {
    const reps = Math.max(1, Math.round(32768 / n));
    const accesses = 2 * n * reps;
    const make = (k: Kernel, name: string, setup: string) => {
      exec(k, `${name} = (function() ${setup} end)()`);
      return accessLoop(name, n, reps);
    };
    const table = make(kernel, `table_${n}`, CONTAINERS.table(n));
    const buf = make(kernel, `buffer_${n}`, CONTAINERS.buffer(n));
    const js = make(jsKernel, `buffer_${n}`, CONTAINERS.buffer(n));
    const floor = make(kernel, `floor_${n}`, CONTAINERS.floor());
    const budgetedTable = make(budgeted, `table_${n}`, CONTAINERS.table(n));
    const budgetedBuf = make(budgeted, `buffer_${n}`, CONTAINERS.buffer(n));
    return [
      { name: `table-${n}`, accesses, fn: () => exec(kernel, table) },
      { name: `buffer-${n}`, accesses, fn: () => exec(kernel, buf) },
      { name: `js-${n}`, accesses, fn: () => exec(jsKernel, js) },
      { name: `floor-${n}`, accesses, fn: () => exec(kernel, floor) },
      { name: `budgeted-table-${n}`, accesses, fn: () => exec(budgeted, budgetedTable) },
      { name: `budgeted-buffer-${n}`, accesses, fn: () => exec(budgeted, budgetedBuf) },
    ];
  });
  for (const c of accessCases) c.fn(); // first runs: compile the chunks, tier up the Wasm
  const accessTimes = measure(accessCases, rounds, maxTime);
  const perAccess = (name: string) => accessTimes.get(name)! / accessCases.find((c) => c.name === name)!.accesses;

  const rows: Row[] = [];
  const notes: string[] = [];
  for (const n of sizes) {
    const table = perAccess(`table-${n}`);
    const label = n >= 1024 * 1024 ? `${n / (1024 * 1024)} MiB` : `${n / 1024} KiB`;
    const buf = perAccess(`buffer-${n}`);
    rows.push({ what: `buf[i] write+read loop, ${label} buffer (Wasm fast path) vs Lua table`, value: ns(buf), baseline: ns(table), ratio: buf / table, target: '≤ 3x', ok: buf / table <= 3 });
    const js = perAccess(`js-${n}`);
    rows.push({ what: `  same, JavaScript __index/__newindex (reference)`, value: ns(js), baseline: ns(table), ratio: js / table, target: '' });
    const floor = perAccess(`floor-${n}`);
    rows.push({ what: `  same loop through empty Lua metamethods (the VM's floor for any binding)`, value: ns(floor), baseline: ns(table), ratio: floor / table, target: '' });
    const bTable = perAccess(`budgeted-table-${n}`);
    const bBuf = perAccess(`budgeted-buffer-${n}`);
    rows.push({ what: `  same, kernel with an instruction budget (count hook on), buffer vs table`, value: ns(bBuf), baseline: ns(bTable), ratio: bBuf / bTable, target: '≤ 3x', ok: bBuf / bTable <= 3 });
  }
  notes.push('Element access: time per access (one write or one read) in `for i = 1, n do b[i] = (i + r) & 255 end; for i = 1, n do s = s + b[i] end`; each container is made (the table filled to n elements) before the measured calls.');
  notes.push('The instruction-budget rows run the same loop on a kernel booted with `limits: { instructions }`: Lua\'s count hook then routes every VM instruction through luaG_traceexec, which costs a table access and a metamethod call alike.');
  notes.push('A userdata access always goes through the VM\'s metamethod dispatch (luaV_finishget/luaV_finishset, a CallInfo, the C call); the "empty Lua metamethods" row is that cost with a function that does nothing, so no binding can go below it.');

  // 2. SHA-1 throughput.
  const hashSizes = quick ? [4096] : [4096, 1024 * 1024];
  const hashCases = hashSizes.flatMap((n) => {
    const reps = Math.max(1, Math.round((1 << 20) / n / 4));
    const data = Uint8Array.from({ length: n }, (_, i) => (i * 31) & 255);
    exec(kernel, `hashme_${n} = buffer.new(${n}) for i = 1, ${n} do hashme_${n}[i] = ((i - 1) * 31) & 255 end`);
    const lua = `local b, f = hashme_${n}, crypto.sha1 for i = 1, ${reps} do f(b) end`;
    return [
      { name: `lunatik-${n}`, bytes: n * reps, fn: () => exec(kernel, lua) },
      { name: `noble-${n}`, bytes: n * reps, fn: () => { for (let i = 0; i < reps; i++) sha1(data); } },
      { name: `node-${n}`, bytes: n * reps, fn: () => { for (let i = 0; i < reps; i++) createHash('sha1').update(data).digest(); } },
    ];
  });
  for (const c of hashCases) c.fn();
  const hashTimes = measure(hashCases, rounds, maxTime);
  for (const n of hashSizes) {
    const bytes = hashCases.find((c) => c.name === `lunatik-${n}`)!.bytes;
    const lunatik = hashTimes.get(`lunatik-${n}`)!;
    const noble = hashTimes.get(`noble-${n}`)!;
    const node = hashTimes.get(`node-${n}`)!;
    const label = n >= 1024 * 1024 ? `${n / (1024 * 1024)} MiB` : `${n / 1024} KiB`;
    rows.push({ what: `crypto.sha1, ${label} buffer, from a Lua loop vs @noble/hashes on a Uint8Array (throughput)`, value: mbps(bytes, lunatik), baseline: mbps(bytes, noble), ratio: noble / lunatik, target: '≥ 0.9x', ok: noble / lunatik >= 0.9 });
    rows.push({ what: `  node:crypto sha1 on the same bytes (for scale)`, value: mbps(bytes, node), baseline: mbps(bytes, noble), ratio: noble / node, target: '' });
  }
  notes.push('SHA-1: ratios are throughput relative to @noble/hashes (higher is better); the node:crypto row shows how much faster native code is.');

  // 3. printk into the ring buffer.
  const records = quick ? 10_000 : 200_000;
  const printkCode = `for i = 1, ${records} do printk("x") end`;
  exec(kernel, printkCode);
  const printkTime = measure([{ name: 'printk', fn: () => exec(kernel, printkCode) }], rounds, maxTime).get('printk')!;
  const perSecond = records / printkTime;
  rows.push({ what: 'printk("x") records per second, from a Lua loop', value: `${(perSecond / 1e6).toFixed(2)} M/s`, baseline: '1 M/s', ratio: perSecond / 1e6, target: '≥ 1 M/s', ok: perSecond >= 1e6 });

  writeResults('bindings', 'Bindings: buffer, crypto, printk (issue 4)', rows, notes, options.dir);
  kernel.shutdown();
  budgeted.shutdown();
  jsKernel.shutdown();
  return rows;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const quick = process.argv.includes('--quick');
  // A quick run's timings mean nothing: keep them out of bench/results/.
  run({ quick, dir: quick ? mkdtempSync(join(tmpdir(), 'lunatik-bench-')) : undefined });
}
