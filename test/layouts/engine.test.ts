/*
 * LayoutEngine's safety: a layout that loops, eats memory, errors or answers nonsense is
 * refused with its errno and a message, the engine keeps serving every other file, and a
 * layout replaced while others resolve is replaced whole or not at all.
 */
import test from 'ava';
import fc from 'fast-check';
import { errno } from '../../src/index.js';
import { LayoutEngine } from '../../examples/layouts/engine.js';
import { FIXED } from '../../examples/layouts/fixed/index.js';
import { layoutScript } from '../../examples/layouts/scripts.js';
import { checkAnswer } from '../../examples/layouts/answer.js';

const devices = [0, 1, 2, 3].map((id) => ({ id, size: 1 << 30 }));
const stripe = { script: layoutScript('file-layout'), params: { stripeUnit: 4096, stripeIndices: [0, 1, 2, 3] }, devices };

/** A layout whose resolve runs `body` with offset and length in scope. */
const custom = (body: string, info = 'nil') => ({ script: `return function(p, devices) return function(offset, length) ${body} end, ${info} end`, devices });

function withEngine(t: import('ava').ExecutionContext, run: (engine: LayoutEngine) => void): void {
  const engine = LayoutEngine.boot();
  try {
    t.is(engine.setLayout('good', stripe).rc, 0);
    run(engine);
    // Whatever happened, the well-behaved file still resolves.
    const r = engine.resolve('good', 4096, 8192);
    t.is(r.rc, 0, r.error);
    t.deepEqual(r.mirrors, [[{ device: 1, deviceOffset: 4096, length: 4096 }, { device: 2, deviceOffset: 8192, length: 4096 }]]);
  } finally {
    t.deepEqual(engine.shutdown().leaks, []);
  }
}

const failures: [string, ReturnType<typeof custom>, number, RegExp][] = [
  ['a loop', custom('while true do end'), -errno.ETIME, /instruction budget/],
  ['a memory hog', custom('local s = "x" while true do s = s .. s end'), -errno.ENOMEM, /memory/],
  ['an error', custom('error("no such stripe")'), -errno.ECANCELED, /no such stripe/],
  ['a non-list', custom('return "0,0,4096"'), -errno.EINVAL, /data: expected a flat list of integers, got string/],
  ['a float', custom('return { 0, 0.5, length }'), -errno.EINVAL, /deviceOffset is number 0.5/],
  ['a string in a list', custom('return { 0, "0", length }'), -errno.EINVAL, /deviceOffset is string/],
  ['a ragged list', custom('return { 0, 0 }'), -errno.EINVAL, /2 values/],
  ['a gap', custom('return { 0, 0, length - 1 }'), -errno.EINVAL, /a gap/],
  ['an overlap in the file', custom('return { 0, 0, length, 1, 0, 1 }'), -errno.EINVAL, /an overlap/],
  ['an overlap on a device', custom('return { 0, 0, length - 1, 0, 0, 1 }'), -errno.EINVAL, /share bytes of device 0/],
  ['an overlap among many extents', custom('local t = {} for i = 0, 18 do t[#t + 1] = 0 t[#t + 1] = i * 200 t[#t + 1] = 200 end t[#t + 1] = 0 t[#t + 1] = 100 t[#t + 1] = length - 3800 return t'), -errno.EINVAL, /share bytes of device 0/],
  ['a negative offset', custom('return { 0, -4096, length }'), -errno.EINVAL, /negative/],
  ['a zero length', custom('return { 0, 0, 0, 0, 0, length }'), -errno.EINVAL, /not positive/],
  ['a place outside the device', custom('return { 3, (1 << 30) - 1, length }'), -errno.EINVAL, /outside device 3/],
  ['an unknown device', custom('return { 9, 0, length }'), -errno.EINVAL, /device 9 is not in the device table/],
  ['an integer beyond 2^53', custom('return { 0, math.maxinteger, length }'), -errno.EINVAL, /beyond 2\^53/],
  ['too few mirrors', custom('return { 0, 0, length }', '{ mirrors = 2 }'), -errno.EINVAL, /expected 2 extent list/],
  ['a missing parity list', custom('return { 0, 0, length }', '{ parity = true }'), -errno.EINVAL, /expected 2 extent list/],
];

for (const [what, spec, rc, message] of failures) {
  test(`a layout returning ${what} is refused with ${rc} and the engine keeps serving`, (t) => {
    withEngine(t, (engine) => {
      t.is(engine.setLayout('bad', spec).rc, 0);
      for (let i = 0; i < 3; i++) {
        const r = engine.resolve('bad', 0, 4096);
        t.is(r.rc, rc, r.error);
        t.regex(r.error!, message);
        t.is(r.mirrors, undefined);
      }
    });
  });
}

const badInstalls: [string, string, number, RegExp][] = [
  ['a syntax error', 'return function(', -errno.ENOEXEC, /unexpected symbol|expected/],
  ['a looping set-up', 'while true do end', -errno.ETIME, /instruction budget/],
  ['a set-up that eats memory', 'local s = "x" while true do s = s .. s end', -errno.ENOMEM, /memory/],
  ['no function', 'return 42', -errno.ECANCELED, /must return function\(params, devices\), got number/],
  ['no resolve function', 'return function() return {} end', -errno.ECANCELED, /must return a resolve function, got table/],
  ['bad layout info', 'return function() return function() end, { mirrors = 0 } end', -errno.ECANCELED, /mirrors must be a positive integer/],
  ['a reach for the engine', 'return function() layouts.good = nil; return function() end end', -errno.ECANCELED, /global 'layouts'/],
  ['a reach for load', 'return function() return load("return layouts")() end', -errno.ECANCELED, /global 'load'/],
];

for (const [what, script, rc, message] of badInstalls) {
  test(`installing ${what} fails with ${rc}; the file's old layout keeps serving`, (t) => {
    withEngine(t, (engine) => {
      t.is(engine.setLayout('other', stripe).rc, 0);
      const r = engine.setLayout('other', { script, devices });
      t.is(r.rc, rc, r.error);
      t.regex(r.error!, message);
      t.is(engine.resolve('other', 0, 4096).mirrors?.[0]?.[0]?.device, 0);
    });
  });
}

test('bad device tables and requests are refused before any script runs', (t) => {
  withEngine(t, (engine) => {
    for (const table of [[], [{ id: -1, size: 1 }], [{ id: 1, size: 1.5 }], [{ id: 1, size: 1 }, { id: 1, size: 2 }], 'devices']) {
      t.is(engine.setLayout('x', { script: layoutScript('raid5'), devices: table as never }).rc, -errno.EINVAL);
    }
    t.is(engine.resolve('nobody', 0, 1).rc, -errno.ENOENT);
    for (const [offset, length] of [[-1, 1], [0, 0], [0.5, 1], [2 ** 53, 1], [2 ** 53 - 1, 2]]) {
      t.is(engine.resolve('good', offset!, length!).rc, -errno.EINVAL);
    }
    t.is(engine.setLayout('x', { ...stripe, params: { stripeUnit: 4096, stripeIndices: [0], hook: () => 1 } }).rc, -errno.EINVAL);
    t.is(engine.removeLayout('good'), 0);
    t.is(engine.resolve('good', 0, 1).rc, -errno.ENOENT);
    t.is(engine.removeLayout('good'), -errno.ENOENT);
    t.is(engine.setLayout('good', stripe).rc, 0);
  });
});

test('the engine keeps its own copy of a layout: what the caller changes later changes nothing', (t) => {
  withEngine(t, (engine) => {
    const mine = { script: stripe.script, params: { stripeUnit: 4096, stripeIndices: [0, 1] }, devices: devices.map((d) => ({ ...d })) };
    t.is(engine.setLayout('mine', mine).rc, 0);
    mine.devices[1]!.id = 99;
    mine.params.stripeIndices.push(2);
    // Dropped state forces the layout to be set up again from the engine's copy.
    t.true(engine.kernel.exec('layouts = {}').rc >= 0);
    t.deepEqual(engine.resolve('mine', 4096, 4096).mirrors, [[{ device: 1, deviceOffset: 4096, length: 4096 }]]);
  });
});

test('an engine never runs on an isolate-mode kernel, where its layouts would vanish', (t) => {
  const engine = LayoutEngine.boot({ isolate: true });
  try {
    t.is(engine.setLayout('f', stripe).rc, 0);
    t.is(engine.resolve('f', 0, 4096).rc, 0);
  } finally {
    engine.shutdown();
  }
});

test('the device table and parameters reach the script as values, never as source', (t) => {
  withEngine(t, (engine) => {
    // A parameter that would be code if it were formatted into the source stays a string.
    const spec = custom('return { devices[1].id, 0, length }');
    const sneaky = { ...spec, script: spec.script.replace('function(p, devices)', 'function(p, devices) assert(p.name == "x\\"]] os.exit() --[[")'), params: { name: 'x"]] os.exit() --[[' } };
    t.is(engine.setLayout('s', sneaky).rc, 0);
    t.is(engine.resolve('s', 0, 10).rc, 0);
  });
});

test('a layout replaced between resolves is seen whole: old or new, never a mix', (t) => {
  // Two layouts on different device tables: a resolve that mixed one's script with the
  // other's devices would be refused (device not in table) or answer neither mapping.
  const tableA = [0, 1, 2, 3].map((id) => ({ id, size: 2 ** 40 }));
  const tableB = [10, 11, 12, 13, 14].map((id) => ({ id, size: 2 ** 40 }));
  const specs = {
    A: { script: layoutScript('file-layout'), params: { stripeUnit: 4096, stripeIndices: [0, 1, 2, 3] }, devices: tableA },
    B: { script: layoutScript('raid5'), params: { stripeUnit: 8192 }, devices: tableB },
    broken: { script: 'return function(p, devices) error("bad") end', devices: tableB },
  };
  const expected = (which: 'A' | 'B', offset: number, length: number) => {
    const s = specs[which];
    const fixed = (which === 'A' ? FIXED['file-layout'] : FIXED.raid5)(s.params, s.devices);
    return checkAnswer(fixed.resolve(offset, length), fixed, new Map(s.devices.map((d) => [d.id, d.size])), length);
  };
  const engine = LayoutEngine.boot();
  try {
    fc.assert(fc.property(fc.array(fc.oneof(
      fc.constantFrom('A' as const, 'B' as const, 'broken' as const).map((set) => ({ set })),
      fc.record({ offset: fc.nat({ max: 2 ** 36 }), length: fc.integer({ min: 1, max: 1 << 18 }) }),
    ), { maxLength: 30 }), (steps) => {
      let current: 'A' | 'B' | null = null;
      engine.removeLayout('f');
      for (const step of steps) {
        if ('set' in step) {
          const rc = engine.setLayout('f', specs[step.set]).rc;
          if (step.set === 'broken') {
            if (rc !== -errno.ECANCELED) return false;
          } else {
            if (rc !== 0) return false;
            current = step.set;
          }
        } else {
          const r = engine.resolve('f', step.offset, step.length);
          if (current === null) {
            if (r.rc !== -errno.ENOENT) return false;
          } else if (JSON.stringify(r) !== JSON.stringify(expected(current, step.offset, step.length))) {
            return false;
          }
        }
      }
      return true;
    }), { numRuns: 80 });
  } finally {
    engine.shutdown();
  }
  t.pass();
});

test('a layout that keeps what it allocates gets -ENOMEM, then it and the others are set up afresh', (t) => {
  const leaker = {
    script: 'return function(p, devices) local keep = {} return function(offset, length) keep[#keep + 1] = ("x"):rep(65536) .. offset return { 0, 0, length } end end',
    devices,
  };
  withEngine(t, (engine) => {
    t.is(engine.setLayout('leaker', leaker).rc, 0);
    const outcomes: number[] = [];
    for (let i = 0; i < 400; i++) outcomes.push(engine.resolve('leaker', i, 4096).rc);
    const firstFailure = outcomes.indexOf(-errno.ENOMEM);
    t.true(firstFailure > 0, 'the pool filled up');
    t.true(outcomes.every((rc) => rc === 0 || rc === -errno.ENOMEM));
    t.true(outcomes.slice(firstFailure).includes(0), 'the leaker works again after its state was dropped');
  });
});

test('after a kernel panic the engine sets its layouts up again', (t) => {
  withEngine(t, (engine) => {
    // What a panic leaves behind: a new, empty Lua state (here: the globals cleared by hand).
    t.true(engine.kernel.exec('layouts = nil layout_install = nil layout_remove = nil').rc >= 0);
    t.is(engine.setLayout('other', stripe).rc, 0);
    t.is(engine.resolve('other', 0, 4096).rc, 0);
  });
});
