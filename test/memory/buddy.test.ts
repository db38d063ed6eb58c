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

test('exact runs: first fit, taken and trimmed in place, freed back to maximal blocks', (t) => {
  const b = new BuddyAllocator(3000);
  const fresh = new BuddyAllocator(3000).freeBlocksPerOrder();
  t.is(b.findFreeRun(2500), 0);
  t.is(b.findFreeRun(3001), -1, 'more than the region');
  b.takeRange(0, 2500);
  t.is(b.freePages, 500);
  b.checkInvariants();
  t.is(b.findFreeRun(501), -1);
  t.is(b.findFreeRun(500), 2500, 'the pages right after');
  b.trimRange(0, 2500, 257);
  t.is(b.freePages, 3000 - 257, 'the tail given back without moving the head');
  b.checkInvariants();
  t.true(b.isFreeRun(257, 2743));
  t.false(b.isFreeRun(256, 2), 'page 256 is used');
  b.takeRange(257, 3);
  t.is(b.findFreeRun(10), 260, 'first fit packs from the bottom');
  b.freeRange(257, 3);
  b.freeRange(0, 257);
  t.deepEqual(b.freeBlocksPerOrder(), fresh, 'every page free: the maximal aligned blocks again');
  b.checkInvariants();

  // A run is found across free blocks of different orders, but not across a used page.
  const g = new BuddyAllocator(16);
  const x = g.alloc(0); // 0
  const y = g.alloc(0); // 1
  t.deepEqual([x, y], [0, 1]);
  t.is(g.findFreeRun(14), 2, 'orders 1, 2 and 3 side by side');
  t.true(g.free(x));
  t.is(g.findFreeRun(2), 2, 'page 0 alone is too short');
  g.checkInvariants();
});

test('takeRange and trimRange keep the buddy invariants for any cut (property)', (t) => {
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 3000 }), fc.array(fc.tuple(fc.nat(), fc.nat()), { maxLength: 20 }), (pages, ops) => {
      const b = new BuddyAllocator(pages);
      const held: [number, number][] = [];
      for (const [u, v] of ops) {
        const n = 1 + (u % pages);
        const q = b.findFreeRun(n);
        if (q >= 0) {
          b.takeRange(q, n);
          held.push([q, n]);
        } else if (held.length > 0) {
          const i = v % held.length;
          const [hq, hn] = held[i]!;
          const keep = v % hn;
          b.trimRange(hq, hn, keep);
          if (keep === 0) held.splice(i, 1);
          else held[i] = [hq, keep];
        }
        b.checkInvariants();
      }
      t.is(b.freePages, pages - held.reduce((s, [, n]) => s + n, 0));
      for (const [q, n] of held) b.freeRange(q, n);
      t.deepEqual(b.freeBlocksPerOrder(), new BuddyAllocator(pages).freeBlocksPerOrder());
    }),
  );
});

test('claim', (t) => {
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
          } else {
            const [q] = live.splice(op.free % live.length, 1);
            if (!b.free(q!.p)) throw new Error('free refused');
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
