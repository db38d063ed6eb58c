/*
 * Scripted layouts against their TypeScript fixed mappings: for random parameters, device
 * tables and requests, the script resolved through the LayoutEngine (value bridge) and
 * through sysLua with formatted source answers exactly what the fixed mapping answers,
 * and both keep the invariants (invariants.ts; answer.ts checks each single answer).
 */
import test from 'ava';
import fc from 'fast-check';
import { Kernel, errno } from '../../src/index.js';
import { checkAnswer } from '../../examples/layouts/answer.js';
import { LayoutEngine } from '../../examples/layouts/engine.js';
import { FIXED } from '../../examples/layouts/fixed/index.js';
import { FormattedLayout } from '../../examples/layouts/formatted.js';
import { hash3, log2fix } from '../../examples/layouts/fixed/hash.js';
import { LAYOUTS, layoutScript, libScript } from '../../examples/layouts/scripts.js';
import type { Resolution } from '../../examples/layouts/types.js';
import { CASES, type Case } from './arbitraries.js';
import { brokenInvariant } from './invariants.js';

type Resolver = (offset: number, length: number) => Resolution;

function fixedResolver(c: Case): Resolver {
  const fixed = FIXED[c.layout](c.params, c.devices);
  const sizes = new Map(c.devices.map((d) => [d.id, d.size]));
  return (offset, length) => {
    try {
      return checkAnswer(fixed.resolve(offset, length), fixed, sizes, length);
    } catch (e) {
      return { rc: -errno.ECANCELED, error: (e as Error).message };
    }
  };
}

/** The answers without the error text (whose prefixes differ), for comparison. */
const answer = (r: Resolution) => ({ rc: r.rc, mirrors: r.mirrors, parity: r.parity });

function agree(c: Case, scripted: Resolver): string | null {
  const fixed = fixedResolver(c);
  for (const { offset, length } of c.requests) {
    const a = scripted(offset, length), b = fixed(offset, length);
    if (JSON.stringify(answer(a)) !== JSON.stringify(answer(b))) {
      return `(${offset}, ${length}): scripted ${JSON.stringify(a).slice(0, 400)} vs fixed ${JSON.stringify(b).slice(0, 400)}`;
    }
    const broken = brokenInvariant(scripted, offset, length) ?? brokenInvariant(fixed, offset, length);
    if (broken !== null) return `(${offset}, ${length}): ${broken}`;
  }
  return null;
}

for (const layout of LAYOUTS) {
  test(`${layout}: the script through LayoutEngine answers what the fixed mapping answers`, (t) => {
    const engine = LayoutEngine.boot();
    let accepted = 0;
    try {
      fc.assert(fc.property(CASES[layout], (c) => {
        const set = engine.setLayout('file', { script: layoutScript(layout), params: c.params, devices: c.devices });
        if (set.rc !== 0) throw new Error(`setLayout: ${set.error}`);
        const failed = agree(c, (offset, length) => engine.resolve('file', offset, length));
        if (failed !== null) throw new Error(failed);
        accepted += c.requests.filter((r) => engine.resolve('file', r.offset, r.length).rc === 0).length;
      }), { numRuns: 60 });
    } finally {
      engine.shutdown();
    }
    // The generators must mostly produce answers, not only rejections.
    t.true(accepted > 60, `${accepted} accepted answers`);
  });

  test(`${layout}: the script through sysLua with formatted source answers the same`, (t) => {
    const engine = LayoutEngine.boot();
    try {
      fc.assert(fc.property(CASES[layout], (c) => {
        const formatted = FormattedLayout.install(engine.kernel, layoutScript(layout), c.params, c.devices);
        const failed = agree(c, (offset, length) => formatted.resolve(offset, length));
        if (failed !== null) throw new Error(failed);
      }), { numRuns: 15 });
    } finally {
      engine.shutdown();
    }
    t.pass();
  });
}

test('the layouts compute what the RFCs say on hand-worked examples', (t) => {
  const devices = [10, 11, 12].map((id) => ({ id, size: 2 ** 40 }));
  const e = (device: number, deviceOffset: number, length: number) => ({ device, deviceOffset, length });
  const engine = LayoutEngine.boot();
  try {
    // RFC 8881 13.4.4 with stripe unit 100, three stripes, first stripe index 1.
    for (const [dense, offsets] of [[true, [50, 100, 100]], [false, [250, 300, 400]]] as const) {
      engine.setLayout('f', { script: layoutScript('file-layout'), params: { stripeUnit: 100, stripeIndices: [0, 1, 2], firstStripeIndex: 1, dense }, devices });
      t.deepEqual(engine.resolve('f', 250, 200), { rc: 0, mirrors: [[e(10, offsets[0], 50), e(11, offsets[1], 100), e(12, offsets[2], 50)]] });
    }
    // Left-symmetric RAID-5 over three devices, unit 10: row 0 parity on the last, row 1 on the middle one.
    engine.setLayout('r', { script: layoutScript('raid5'), params: { stripeUnit: 10 }, devices });
    t.deepEqual(engine.resolve('r', 0, 40), {
      rc: 0,
      mirrors: [[e(10, 0, 10), e(11, 0, 10), e(12, 10, 10), e(10, 10, 10)]],
      parity: [e(12, 0, 10), e(11, 10, 10)],
    });
  } finally {
    engine.shutdown();
  }
});

test('the script and the fixed mapping refuse the same bad parameters with the same message', (t) => {
  const devices = [{ id: 1, size: 100 }, { id: 2, size: 100 }];
  const engine = LayoutEngine.boot();
  try {
    const bad = [
      ['file-layout', { stripeUnit: 0, stripeIndices: [0] }],
      ['file-layout', { stripeUnit: 10, stripeIndices: [0, 2] }],
      ['file-layout', { stripeUnit: 10, stripeIndices: [0, 1], firstStripeIndex: 2 }],
      ['flex-files', { stripeUnit: 10, mirrors: [] }],
      ['raid5', { stripeUnit: 10 }],
      ['crush', { objectSize: 10, fileId: 1, replicas: 3 }],
      ['ring', { objectSize: 10, fileId: 1 }],
    ] as const;
    for (const [layout, params] of bad) {
      const r = engine.setLayout('f', { script: layoutScript(layout), params, devices });
      const fixed = t.throws(() => FIXED[layout](params, devices));
      t.is(r.rc, -errno.ECANCELED, layout);
      t.true(r.error!.endsWith(fixed!.message), `${r.error} / ${fixed!.message}`);
    }
  } finally {
    engine.shutdown();
  }
});

test('the hash and the fixed-point logarithm agree bit for bit with their Lua twins', (t) => {
  const kernel = Kernel.boot({ modules: [] });
  try {
    const inputs = fc.sample(fc.tuple(fc.nat({ max: 2 ** 53 - 1 }), fc.nat({ max: 2 ** 32 }), fc.nat()), { numRuns: 2000, seed: 14 });
    const r = kernel.eval(`${libScript('hash')}\n${libScript('log2')}
      local inputs, logs, hashes = ..., {}, {}
      for x = 1, 65536 do logs[x] = log2fix(x) end
      for i, v in ipairs(inputs) do hashes[i] = hash3(v[1], v[2], v[3]) end
      return logs, hashes`, [inputs]);
    t.is(r.rc, 2, r.error);
    const [logs, hashes] = r.values as [number[], number[]];
    t.deepEqual(logs, Array.from({ length: 65536 }, (_, i) => log2fix(i + 1)));
    t.deepEqual(hashes, inputs.map(([a, b, c]) => hash3(a, b, c)));
    t.is(logs[65535], 16 << 16);
    t.is(logs[0], 0);
  } finally {
    kernel.shutdown();
  }
});
