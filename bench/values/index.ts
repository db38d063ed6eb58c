/*
 * Issue 10 measured: the value bridge against the bare C API (bench/values/baselines.ts),
 * wasmoon and the formatted-source sysLua, all in the same process and run, cases
 * interleaved round by round.
 *
 *   node dist/bench/values/index.js [--quick]    (writes bench/results/values.md and .json;
 *                                                 --quick: tiny runs, results to a temp folder)
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { LuaFactory } from 'wasmoon';
import { Kernel, type LunatikModule } from '../../src/index.js';
import { measure } from '../lib/measure.js';
import { us, writeResults, type Row } from '../lib/report.js';
import { BRIDGE_SETUP, bareLua } from './baselines.js';

const LOOP = 'local s = 0 for i = 1, n do s = add(s, i) end return s';

/** A module binding doing what the exposed function does, the way bindings are written. */
const addModule: LunatikModule = {
  name: 'addmod',
  init(ctx) {
    ctx.function('add', (lua, L) => {
      lua.pushNumber(L, lua.checkNumber(L, 1) + lua.checkNumber(L, 2));
      return 1;
    });
  },
};

function ns(seconds: number): string {
  return `${(seconds * 1e9).toFixed(0)} ns`;
}

function ok<T extends { rc: number; error?: string }>(r: T): T {
  if (r.rc < 0) throw new Error(`bench call failed: ${r.rc} ${r.error}`);
  return r;
}

export async function run(options: { quick?: boolean; dir?: string | undefined } = {}): Promise<Row[]> {
  const quick = options.quick ?? false;
  const rounds = quick ? 1 : 5;
  const maxTime = quick ? 0.05 : 0.5;
  const bare = bareLua();
  const kernel = Kernel.boot();
  ok(kernel.exec(BRIDGE_SETUP));
  const fn = ok(kernel.load('local a, b, c = ... return a + b + c')).fn!;
  const wasmoon = await new LuaFactory().createEngine();
  await wasmoon.doString(BRIDGE_SETUP);
  const wasmoonF = wasmoon.global.get('f') as (a: number, b: number, c: number) => number;
  const array = Array.from({ length: 1000 }, (_, i) => i);
  const out = new Uint8Array(64);
  let i = 0;

  // Sanity: every case computes what its baseline computes.
  if (ok(kernel.call('f', [1, 2, 3])).values![0] !== bare.callF(1)) throw new Error('call mismatch');
  if (ok(kernel.call('sum', [array])).values![0] !== bare.sumArray(array)) throw new Error('sum mismatch');
  if ((ok(kernel.call('makelist')).values![0] as number[]).join() !== bare.readArray().join()) throw new Error('list mismatch');

  const times = measure([
    { name: 'bare-call', fn: () => bare.callF(i++) },
    { name: 'kernel-call', fn: () => kernel.call('f', [i++, 2, 3]) },
    { name: 'fn-call', fn: () => fn.call([i++, 2, 3]) },
    { name: 'eval-cached', fn: () => kernel.eval('local a, b, c = ... return a + b + c', [i++, 2, 3]) },
    {
      name: 'syslua-formatted',
      fn: () => {
        const code = `return f(${i++}, 2, 3)`;
        kernel.sysLua(code, code.length, out, out.length);
      },
    },
    { name: 'wasmoon-call', fn: () => wasmoonF(i++, 2, 3) },
    { name: 'bare-record', fn: () => bare.record() },
    { name: 'kernel-record', fn: () => kernel.call('rec') },
    { name: 'bare-array-in', fn: () => bare.sumArray(array) },
    { name: 'kernel-array-in', fn: () => kernel.call('sum', [array]) },
    { name: 'bare-array-out', fn: () => bare.readArray() },
    { name: 'kernel-array-out', fn: () => kernel.call('makelist') },
  ], rounds, maxTime);
  const t = (name: string) => times.get(name)!;

  // Host functions called from a Lua loop: exposed, module binding, wasmoon's JS function.
  const calls = quick ? 10_000 : 200_000;
  const exposedKernel = Kernel.boot();
  ok({ rc: exposedKernel.expose('add', (a: number, b: number) => a + b) });
  const bindingKernel = Kernel.boot({ modules: [addModule] });
  const loopCode = `local n = ... ${LOOP}`;
  wasmoon.global.set('add', (a: number, b: number) => a + b);
  const wasmoonLoop = (await wasmoon.doString(`return function(n) ${LOOP} end`)) as (n: number) => number;
  const expected = ok(exposedKernel.eval(loopCode, [calls])).values![0];
  if (ok(bindingKernel.eval(loopCode, [calls])).values![0] !== expected || wasmoonLoop(calls) !== expected) throw new Error('host loop mismatch');
  const hostTimes = measure([
    { name: 'exposed', fn: () => exposedKernel.eval(loopCode, [calls]) },
    { name: 'binding', fn: () => bindingKernel.eval(loopCode, [calls]) },
    { name: 'wasmoon', fn: () => wasmoonLoop(calls) },
  ], rounds, maxTime);
  const perCall = (name: string) => hostTimes.get(name)! / calls;

  const row = (what: string, value: number, baseline: number, target: number | null, baselineName = ''): Row => {
    const ratio = value / baseline;
    return {
      what,
      value: us(value),
      baseline: `${us(baseline)}${baselineName}`,
      ratio,
      target: target === null ? '' : `≤ ${target}x`,
      ...(target === null ? {} : { ok: ratio <= target }),
    };
  };
  const rows: Row[] = [
    row('kernel.call(\'f\', [i, 2, 3]) returning an integer vs bare C API call', t('kernel-call'), t('bare-call'), 1.5),
    row('fn.call([i, 2, 3]) of a loaded chunk vs bare C API call', t('fn-call'), t('bare-call'), 1.5),
    row('kernel.eval (cached chunk) with [i, 2, 3] vs bare C API call', t('eval-cached'), t('bare-call'), 1.5),
    { ...row('sysLua(\'return f(<i>, 2, 3)\') (formatted source) vs kernel.call', t('syslua-formatted'), t('kernel-call'), null), target: '≥ 10x', ok: t('syslua-formatted') / t('kernel-call') >= 10 },
    { ...row('wasmoon lua.global.get(\'f\')(i, 2, 3) vs kernel.call', t('wasmoon-call'), t('kernel-call'), null), target: '≥ 10x', ok: t('wasmoon-call') / t('kernel-call') >= 10 },
    row('returning { device = 3, offset = 4096, length = 512 } vs bare lua_next read', t('kernel-record'), t('bare-record'), 2),
    row('an array of 1,000 numbers in (sum) vs bare push loop', t('kernel-array-in'), t('bare-array-in'), 2),
    row('an array of 1,000 numbers out vs bare read loop', t('kernel-array-out'), t('bare-array-out'), 2),
    { what: 'exposed host function (a, b) => a + b called from a Lua loop, per call', value: ns(perCall('exposed')), baseline: `${ns(perCall('binding'))} module binding`, ratio: perCall('exposed') / perCall('binding'), target: 'reported' },
    { what: '  wasmoon\'s JS function called from Lua, per call (same loop)', value: ns(perCall('wasmoon')), baseline: `${ns(perCall('binding'))} module binding`, ratio: perCall('wasmoon') / perCall('binding'), target: 'reported' },
  ];
  writeResults('values', 'Value bridge: eval, call, load, expose (issue 10)', rows, [
    'Baselines are the same work straight on the image\'s exports (bench/values/baselines.ts): a registry reference, lua_pushinteger, lua_pcallk, lua_tointegerx; lua_next or lua_rawgeti loops for tables; on a luaL_newstate state with the image\'s malloc, no checks.',
    'The formatted-source and wasmoon rows give the ratio the other way round: how many times slower they are than kernel.call.',
    `Host function rows: time of \`${LOOP}\` with n = ${calls}, divided by n (the loop's own cost included, the same for the three).`,
  ], options.dir);
  wasmoon.global.close();
  for (const k of [kernel, exposedKernel, bindingKernel]) k.shutdown();
  return rows;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const quick = process.argv.includes('--quick');
  // A quick run's timings mean nothing: keep them out of bench/results/.
  await run({ quick, dir: quick ? mkdtempSync(join(tmpdir(), 'lunatik-bench-')) : undefined });
}
