// The buddy page allocator and the size-class table, alone.
import test from 'ava';
import fc from 'fast-check';
import { BuddyAllocator, MAX_ORDER, SIZE_CLASSES, sizeClassOf, slabName } from '../../src/memory/index.js';

const blocks = (counts: Partial<Record<number, number>>): number[] => Array.from({ length: MAX_ORDER + 1 }, (_, o) => counts[o] ?? 0);

test('init carves any page count into maximal aligned blocks', (t) => {
  t.deepEqual(new BuddyAllocator(1).freeBlocksPerOrder(), blocks({ 0: 1 }));
  t.deepEqual(new BuddyAllocator(3).freeBlocksPerOrder(), blocks({ 0: 1, 1: 1 }));
  t.deepEqual(new BuddyAllocator(1024).freeBlocksPerOrder(), blocks({ 10: 1 }));
  t.deepEqual(new BuddyAllocator(1025).freeBlocksPerOrder(), blocks({ 0: 1, 10: 1 }));
  t.deepEqual(new BuddyAllocator(3000).freeBlocksPerOrder(), blocks({ 3: 1, 4: 1, 5: 1, 7: 1, 8: 1, 9: 1, 10: 2 }));
  t.deepEqual(new BuddyAllocator(16384).freeBlocksPerOrder(), blocks({ 10: 16 }));
  for (const n of [1, 3, 7, 1000, 1025, 3000]) {
    const b = new BuddyAllocator(n);
    t.is(b.freePages, n);
    b.checkInvariants();
  }
  t.throws(() => new BuddyAllocator(0), { instanceOf: RangeError });
});

test('alloc splits, free merges buddies, bad frees change nothing', (t) => {
  const b = new BuddyAllocator(16);
  const p0 = b.alloc(0);
  t.is(p0, 0);
  t.deepEqual(b.freeBlocksPerOrder(), blocks({ 0: 1, 1: 1, 2: 1, 3: 1 }));
  const p1 = b.alloc(0);
  t.is(p1, 1);
  const p2 = b.alloc(2);
  t.is(p2, 4);
  t.is(b.freePages, 10);
  t.false(b.free(2), 'not a used head');
  t.false(b.free(5), 'inside a block');
  t.false(b.free(-1));
  t.false(b.free(16));
  t.is(b.freePages, 10);
  t.true(b.free(p0));
  t.false(b.free(p0), 'double free');
  t.true(b.free(p1));
  t.deepEqual(b.freeBlocksPerOrder(), blocks({ 1: 0, 2: 1, 3: 1 }), 'pages 0-3 merged back to order 2');
  t.true(b.free(p2));
  t.deepEqual(b.freeBlocksPerOrder(), blocks({ 4: 1 }));
  t.is(b.alloc(5), -1, 'beyond the region');
  t.is(b.alloc(MAX_ORDER + 1), -1);
  b.checkInvariants();
});

test('shrink, claim and runs', (t) => {
  const b = new BuddyAllocator(3000);
  const p = b.alloc(6);
  t.true(b.shrink(p, 2));
  t.is(b.freePages, 3000 - 4);
  t.false(b.shrink(p, 3), 'cannot shrink upwards');
  b.checkInvariants();
  t.true(b.free(p));
  t.deepEqual(b.freeBlocksPerOrder(), new BuddyAllocator(3000).freeBlocksPerOrder());

  const g = new BuddyAllocator(64);
  const x = g.alloc(2); // 0, buddies 4(o2) 8(o3) 16(o4) 32(o5) free
  t.is(x, 0);
  t.true(g.grow(x, 4));
  t.is(g.freePages, 48);
  const y = g.alloc(2);
  t.is(y, 16);
  t.false(g.grow(x, 5), 'upper buddy partly used');
  t.false(g.grow(y, 5), 'not the lower buddy at order 4');
  t.true(g.grow(y, 3), 'page 20 (order 2) is free');
  g.checkInvariants();
  t.true(g.free(y));
  t.true(g.grow(x, 6));
  t.is(g.freePages, 0);
  t.false(g.grow(x, 7), 'beyond the region');
  g.checkInvariants();

  // A free page above is not enough: it must be a whole buddy of the right order.
  const h = new BuddyAllocator(16);
  const a = h.alloc(1);
  const b2 = h.alloc(0);
  const c3 = h.alloc(0);
  t.deepEqual([a, b2, c3], [0, 2, 3]);
  t.true(h.free(b2)); // page 2 free (order 0), page 3 used
  t.false(h.grow(a, 2));
  h.checkInvariants();

  const r = b.allocRun(2);
  t.is(r, 0);
  t.is(b.allocRun(2), -1, 'no second pair of adjacent order-10 blocks');
  t.is(b.freePages, 3000 - 2048);
  t.true(b.free(r));
  t.true(b.free(r + 1024));
  b.checkInvariants();

  const c = new BuddyAllocator(8);
  t.true(c.claim(0, 0));
  t.false(c.claim(0, 0));
  t.is(c.freePages, 7);
  t.is(c.alloc(0), 1, 'page 0 is taken');
  c.checkInvariants();
});

test('random alloc/free keeps the lists consistent and always merges back', (t) => {
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 2100 }),
      fc.array(
        fc.oneof(
          fc.record({ alloc: fc.integer({ min: 0, max: MAX_ORDER }) }),
          fc.record({ free: fc.nat() }),
          fc.record({ grow: fc.nat(), order: fc.integer({ min: 0, max: MAX_ORDER }) }),
          fc.record({ shrink: fc.nat(), order: fc.integer({ min: 0, max: MAX_ORDER }) }),
        ),
        { maxLength: 200 },
      ),
      (pages, ops) => {
        const b = new BuddyAllocator(pages);
        const live: { p: number; o: number }[] = [];
        for (const op of ops) {
          if ('alloc' in op) {
            const p = b.alloc(op.alloc);
            if (p >= 0) {
              if (p % (1 << op.alloc) !== 0 || p + (1 << op.alloc) > pages) throw new Error('misaligned block');
              for (const q of live) if (p < q.p + (1 << q.o) && q.p < p + (1 << op.alloc)) throw new Error('overlap');
              live.push({ p, o: op.alloc });
            } else if (b.freeBlocksPerOrder().slice(op.alloc).some((n) => n > 0)) {
              throw new Error('refused with a big enough free block');
            }
          } else if (live.length === 0) {
            continue;
          } else if ('free' in op) {
            const [q] = live.splice(op.free % live.length, 1);
            if (!b.free(q!.p)) throw new Error('free refused');
          } else if ('grow' in op) {
            const q = live[op.grow % live.length]!;
            if (b.grow(q.p, op.order)) {
              for (const r of live) if (r !== q && r.p < q.p + (1 << op.order) && q.p < r.p + (1 << r.o)) throw new Error('grew over a used block');
              q.o = op.order;
            }
          } else {
            const q = live[op.shrink % live.length]!;
            if (b.shrink(q.p, op.order)) q.o = op.order;
            else if (op.order <= q.o) throw new Error('shrink refused');
          }
          b.checkInvariants();
          if (b.freePages !== pages - live.reduce((n, q) => n + (1 << q.o), 0)) throw new Error('freePages wrong');
        }
        for (const q of live) b.free(q.p);
        if (JSON.stringify(b.freeBlocksPerOrder()) !== JSON.stringify(new BuddyAllocator(pages).freeBlocksPerOrder())) throw new Error('did not merge back');
        b.reset();
        b.checkInvariants();
      },
    ),
  );
  t.pass();
});

test('size -> class table picks the smallest class that fits', (t) => {
  for (let size = 1; size <= 8192; size++) {
    const c = sizeClassOf(size);
    const ok = SIZE_CLASSES[c]! >= size && (c === 0 || SIZE_CLASSES[c - 1]! < size);
    if (!ok) t.fail(`size ${size} -> ${SIZE_CLASSES[c]}`);
  }
  t.is(sizeClassOf(8193), -1);
  t.is(slabName(96), 'kmalloc-96');
  t.is(slabName(1024), 'kmalloc-1k');
  t.is(slabName(8192), 'kmalloc-8k');
});
