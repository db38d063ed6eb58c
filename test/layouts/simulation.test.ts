/*
 * The quick variants of `npm run layouts` and of the layouts bench, as CI runs them: they
 * finish, write their files, and the simulation shows what the layouts are known for. No
 * timing is asserted.
 */
import test from 'ava';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { run as runBench } from '../../bench/layouts/index.js';
import { runSimulation } from '../../examples/layouts/run.js';
import { movedBytes } from '../../examples/layouts/simulate.js';

test.serial('npm run layouts, quick: balance and movement per layout, and the picture', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'lunatik-layouts-'));
  const r = runSimulation(2000, dir);
  const svg = readFileSync(join(dir, 'layouts.svg'), 'utf8');
  t.true(svg.startsWith('<svg') && svg.trimEnd().endsWith('</svg>'));
  t.deepEqual(JSON.parse(readFileSync(join(dir, 'layouts.json'), 'utf8')), JSON.parse(JSON.stringify(r)));
  const by = Object.fromEntries(r.layouts.map((l) => [l.layout, l]));
  for (const l of r.layouts) {
    t.is(l.bytes.length, 16);
    t.true(l.bytes.every((b) => b > 0), `${l.layout} leaves a device empty`);
    t.true(svg.includes(l.label));
  }
  // Striping modulo the device count moves nearly everything; pseudorandom placement about 1/16.
  t.true(by['file-layout']!.moved > 0.8, String(by['file-layout']!.moved));
  t.true(by.raid5!.moved > 0.8, String(by.raid5!.moved));
  for (const l of [by.crush!, by.ring!]) t.true(l.moved > 0.01 && l.moved < 0.15, `${l.layout} moved ${l.moved}`);
});

test('movedBytes compares two extent lists byte by byte', (t) => {
  const e = (device: number, length: number) => ({ device, deviceOffset: 0, length });
  t.is(movedBytes([e(1, 10)], [e(1, 4), e(2, 6)]), 6);
  t.is(movedBytes([e(1, 5), e(2, 5)], [e(1, 3), e(3, 4), e(2, 3)]), 4);
  t.is(movedBytes([e(1, 10)], [e(1, 10)]), 0);
});

test.serial('layouts bench, quick: a figure for every row', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'lunatik-bench-test-'));
  const rows = runBench({ quick: true, dir });
  t.is(rows.length, 12);
  for (const row of rows) t.true(row.ratio !== null && Number.isFinite(row.ratio) && row.ratio > 0, row.what);
  t.true(existsSync(join(dir, 'layouts.md')));
});
