/*
 * LayoutPool: layouts resolved on worker threads answer as the engine does, a layout
 * replaced while resolves are in flight is seen whole by each of them (old or new, never a
 * mix), a bad replacement keeps the old one, and a looping layout does not stop the pool.
 */
import test from 'ava';
import { errno } from '../../src/index.js';
import { checkAnswer } from '../../examples/layouts/answer.js';
import { FIXED } from '../../examples/layouts/fixed/index.js';
import { LayoutPool } from '../../examples/layouts/pool.js';
import { layoutScript } from '../../examples/layouts/scripts.js';
import type { LayoutSpec } from '../../examples/layouts/spec.js';
import type { LayoutName } from '../../examples/layouts/scripts.js';

const tableA = [0, 1, 2, 3].map((id) => ({ id, size: 2 ** 40 }));
const tableB = [10, 11, 12, 13, 14].map((id) => ({ id, size: 2 ** 40 }));
const A = { script: layoutScript('file-layout'), params: { stripeUnit: 4096, stripeIndices: [0, 1, 2, 3] }, devices: tableA };
const B = { script: layoutScript('raid5'), params: { stripeUnit: 8192 }, devices: tableB };

function expected(layout: LayoutName, spec: LayoutSpec, offset: number, length: number) {
  const fixed = FIXED[layout](spec.params!, spec.devices);
  return checkAnswer(fixed.resolve(offset, length), fixed, new Map(spec.devices.map((d) => [d.id, d.size])), length);
}

test('a layout replaced while resolves run on two workers: each answers with the old or the new, whole', async (t) => {
  const pool = LayoutPool.create({ threads: 2 });
  try {
    t.is((await pool.setLayout('f', A)).rc, 0);
    const requests = Array.from({ length: 300 }, (_, i) => ({ offset: i * 5000, length: 1 + ((i * 7919) % 40000) }));
    const before = requests.slice(0, 150).map((q) => pool.resolve('f', q.offset, q.length));
    const replaced = pool.setLayout('f', B);
    const during = requests.slice(150, 220).map((q) => pool.resolve('f', q.offset, q.length));
    t.is((await replaced).rc, 0);
    const after = requests.slice(220).map((q) => pool.resolve('f', q.offset, q.length));
    const results = await Promise.all([...before, ...during, ...after]);
    let old = 0, now = 0;
    results.forEach((r, i) => {
      const { offset, length } = requests[i]!;
      const a = JSON.stringify(expected('file-layout', A, offset, length));
      const b = JSON.stringify(expected('raid5', B, offset, length));
      const got = JSON.stringify(r);
      if (got === a) old++;
      else if (got === b) now++;
      else t.fail(`request ${i}: ${got.slice(0, 200)}`);
      if (i >= 220) t.is(got, b, `request ${i}, made after the replacement, must see it`);
    });
    t.is(old + now, requests.length);
    t.true(old >= 150 && now >= 80, `${old} old, ${now} new`);
  } finally {
    await pool.close();
  }
});

test('a pool refuses a bad replacement and keeps the old layout; a looping layout gets -ETIME and the pool serves on', async (t) => {
  const pool = LayoutPool.create({ threads: 2 });
  try {
    t.is((await pool.setLayout('f', A)).rc, 0);
    t.is((await pool.setLayout('f', { script: 'return function(', devices: tableA })).rc, -errno.ENOEXEC);
    t.is((await pool.setLayout('f', { script: 'return function() error("no") end', devices: tableA })).rc, -errno.ECANCELED);
    t.deepEqual(await pool.resolve('f', 0, 10000), expected('file-layout', A, 0, 10000));
    t.is((await pool.setLayout('loop', { script: 'return function() return function() while true do end end end', devices: tableA })).rc, 0);
    const loops = await Promise.all([1, 2, 3].map(() => pool.resolve('loop', 0, 1)));
    for (const r of loops) t.is(r.rc, -errno.ETIME, r.error);
    const answers = await Promise.all([0, 1, 2, 3].map((i) => pool.resolve('f', i * 4096, 4096)));
    answers.forEach((r, i) => t.deepEqual(r, expected('file-layout', A, i * 4096, 4096)));
    t.is((await pool.resolve('f', -1, 1)).rc, -errno.EINVAL);
    t.is(pool.removeLayout('f'), 0);
    t.is((await pool.resolve('f', 0, 1)).rc, -errno.ENOENT);
  } finally {
    await pool.close();
  }
});
