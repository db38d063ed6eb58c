// Property tests of PagePool alone against a model (a Map of what Lua holds).
import test from 'ava';
import fc from 'fast-check';
import { MAX_ORDER, sizeClassOf, type PagePool } from '../../src/memory/index.js';
import { BASE, categoryOf, emptyByType, fill, firstMismatch, makePool, snapshot } from './helpers.js';

type Op =
  | { kind: 'alloc'; size: number; tag: number }
  | { kind: 'realloc'; pick: number; size: number }
  | { kind: 'free'; pick: number };

interface Live {
  addr: number;
  size: number;
  tag: number;
  seed: number;
}

const sizeArb = fc.oneof(
  { weight: 4, arbitrary: fc.integer({ min: 1, max: 256 }) },
  { weight: 3, arbitrary: fc.integer({ min: 1, max: 8192 }) },
  { weight: 2, arbitrary: fc.integer({ min: 8193, max: 70000 }) },
  { weight: 1, arbitrary: fc.constantFrom(1, 8, 9, 96, 97, 192, 193, 4096, 4097, 8191, 8192, 8193, 16384, 16385, 65536, 70000) },
);
const tagArb = fc.constantFrom(0, 4, 5, 6, 7, 8, 9, 10, 20, 38, 63, 64, 100, 1234);
const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 5, arbitrary: fc.record({ kind: fc.constant('alloc' as const), size: sizeArb, tag: tagArb }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('realloc' as const), pick: fc.nat(), size: sizeArb }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('free' as const), pick: fc.nat() }) },
);
// Page counts deliberately include non-powers of two and counts just past
// one MAX_ORDER block, for each page size.
const geometryArb = fc.oneof(
  fc.record({ pageSize: fc.constant(4096), pages: fc.integer({ min: 1, max: 40 }) }),
  fc.record({ pageSize: fc.constant(4096), pages: fc.integer({ min: 1, max: 300 }) }),
  fc.record({ pageSize: fc.constant(4096), pages: fc.integer({ min: 1020, max: 1100 }) }),
  fc.record({ pageSize: fc.constant(8192), pages: fc.integer({ min: 1, max: 200 }) }),
  fc.record({ pageSize: fc.constant(65536), pages: fc.integer({ min: 1, max: 40 }) }),
);

/** A model-checked driver around one pool. */
class Harness {
  readonly live: Live[] = [];
  failures = 0;
  private seed = 1;
  constructor(
    readonly pool: PagePool,
    readonly mem: Uint8Array,
  ) {}

  run(op: Op): void {
    const { pool, mem, live } = this;
    if (op.kind === 'alloc') {
      const addr = pool.luaAlloc(0, op.tag, op.size);
      if (addr === 0) {
        this.failures++;
        this.assertGenuineFailure(op.size);
        return;
      }
      const b = { addr, size: op.size, tag: op.tag, seed: this.seed++ };
      fill(mem, addr, b.size, b.seed);
      live.push(b);
      return;
    }
    if (live.length === 0) return;
    const i = op.pick % live.length;
    const b = live[i]!;
    this.assertIntact(b);
    if (op.kind === 'free') {
      pool.luaAlloc(b.addr, b.size, 0);
      live.splice(i, 1);
      return;
    }
    const addr = pool.luaAlloc(b.addr, b.size, op.size);
    if (addr === 0) {
      if (op.size <= b.size) throw new Error(`shrinking realloc ${b.size} -> ${op.size} failed`);
      this.failures++;
      this.assertGenuineFailure(op.size);
      this.assertIntact(b); // Lua keeps using the old block
      return;
    }
    const keep = Math.min(b.size, op.size);
    const bad = firstMismatch(mem, addr, keep, b.seed);
    if (bad >= 0) throw new Error(`realloc ${b.size} -> ${op.size} lost byte ${bad}`);
    live[i] = { addr, size: op.size, tag: b.tag, seed: this.seed++ };
    fill(mem, addr, op.size, live[i]!.seed);
  }

  assertIntact(b: Live): void {
    const bad = firstMismatch(this.mem, b.addr, b.size, b.seed);
    if (bad >= 0) throw new Error(`block ${b.addr}+${b.size} corrupted at byte ${bad}`);
  }

  /** A refusal must be real: no free slab object of that class and no free buddy block big enough. */
  assertGenuineFailure(size: number): void {
    const { pool } = this;
    const blocks = pool.buddyinfo();
    let order: number;
    if (size <= 8192) {
      const info = pool.slabinfo()[sizeClassOf(size)]!;
      if (info.activeObjects !== info.totalObjects) throw new Error(`refused ${size} bytes with free objects in ${info.name}`);
      order = 31 - Math.clz32(info.pagesPerSlab);
    } else {
      // Large blocks take their exact page count anywhere: a refusal needs no free block
      // of the order that would hold it whole (free runs across blocks are not modelled).
      const need = Math.ceil(size / pool.pageSize);
      if (need > 1 << MAX_ORDER) return;
      order = need <= 1 ? 0 : 32 - Math.clz32(need - 1);
    }
    for (let o = order; o <= MAX_ORDER; o++) {
      if (blocks[o]! > 0) throw new Error(`refused ${size} bytes with a free order-${o} block (need ${order})`);
    }
  }

  check(): void {
    const { pool, live } = this;
    pool.checkInvariants();
    const end = pool.base + pool.pages * pool.pageSize;
    const sorted = [...live].sort((a, b) => a.addr - b.addr);
    for (let j = 0; j < sorted.length; j++) {
      const b = sorted[j]!;
      if (b.addr < pool.base || b.addr + b.size > end) throw new Error(`block ${b.addr}+${b.size} outside the region`);
      if (b.addr % 8 !== 0) throw new Error(`block ${b.addr} not 8-aligned`);
      const next = sorted[j + 1];
      if (next && b.addr + b.size > next.addr) throw new Error(`blocks ${b.addr}+${b.size} and ${next.addr} overlap`);
    }
    const m = pool.meminfo();
    const byType = emptyByType();
    let used = 0;
    for (const b of live) {
      used += b.size;
      byType[categoryOf(b.tag)] += b.size;
    }
    if (m.usedBytes !== used) throw new Error(`usedBytes ${m.usedBytes}, model ${used}`);
    for (const k of Object.keys(byType) as (keyof typeof byType)[]) {
      if (m.byType[k] !== byType[k]) throw new Error(`byType.${k} ${m.byType[k]}, model ${byType[k]}`);
    }
    if (m.peakBytes < used) throw new Error('peakBytes below usedBytes');
    if (m.failedAllocations !== this.failures) throw new Error(`failedAllocations ${m.failedAllocations}, model ${this.failures}`);
    // Every page accounted for: free + slab pages + large block pages.
    const slabPages = pool.slabinfo().reduce((n, s) => n + s.slabs * s.pagesPerSlab, 0);
    const leaks = pool.leaks();
    const largePages = leaks
      .filter((l) => l.sizeClass.startsWith('pages-'))
      .reduce((n, l) => n + Number(/^pages-(\d+)$/.exec(l.sizeClass)![1]), 0);
    const reserved = pool.base === 0 ? 1 : 0; // page 0 is NULL, never handed out
    if (m.freePages + slabPages + largePages + reserved !== m.totalPages) {
      throw new Error(`free ${m.freePages} + slab ${slabPages} + large ${largePages} + reserved ${reserved} != total ${m.totalPages}`);
    }
    if (pool.usedPages() !== m.totalPages - m.freePages) throw new Error('usedPages disagrees with meminfo');
    // The leak report is exactly the live set.
    const got = leaks.map((l) => `${l.address}:${l.size}:${l.luaType}`).sort();
    const want = live.map((b) => `${b.addr}:${b.size}:${luaTypeOf(b.tag)}`).sort();
    if (got.join() !== want.join()) throw new Error(`leak report ${got.length} blocks, model ${want.length}`);
  }

  freeAll(): void {
    while (this.live.length > 0) {
      const b = this.live.pop()!;
      this.assertIntact(b);
      this.pool.luaAlloc(b.addr, b.size, 0);
    }
  }
}

function luaTypeOf(tag: number): string {
  const t = tag >= 0 && tag < 64 ? tag & 15 : 0;
  return ({ 4: 'string', 5: 'table', 6: 'function', 7: 'userdata', 8: 'thread', 9: 'upvalue', 10: 'proto' } as Record<number, string>)[t] ?? 'other';
}

test('random alloc/realloc/free sequences keep every invariant and merge back when all is freed', (t) => {
  fc.assert(
    fc.property(geometryArb, fc.array(opArb, { minLength: 1, maxLength: 120, size: 'max' }), ({ pages, pageSize }, ops) => {
      const { pool, mem } = makePool(pages, pageSize);
      const fresh = makePool(pages, pageSize).pool;
      const h = new Harness(pool, mem);
      for (const op of ops) {
        h.run(op);
        h.check();
      }
      h.freeAll();
      h.check();
      pool.shrink();
      const m = pool.meminfo();
      if (m.usedBytes !== 0 || Object.values(m.byType).some((v) => v !== 0)) throw new Error('bytes left after freeing all');
      if (JSON.stringify(pool.buddyinfo()) !== JSON.stringify(fresh.buddyinfo())) {
        throw new Error(`buddyinfo ${pool.buddyinfo().join(' ')} != fresh ${fresh.buddyinfo().join(' ')}`);
      }
      if (pool.usedPages() !== fresh.usedPages() || pool.leaks().length !== 0) throw new Error('pages or blocks left after freeing all');
    }),
    { numRuns: 150 },
  );
  t.pass();
});

test('reset() after any history gives a pool indistinguishable from a fresh one', (t) => {
  fc.assert(
    fc.property(
      geometryArb,
      fc.array(opArb, { maxLength: 80, size: 'max' }),
      fc.array(opArb, { maxLength: 60, size: 'max' }),
      fc.boolean(),
      ({ pages, pageSize }, before, after, zeroBase) => {
        const extra = zeroBase ? { base: 0 } : {};
        const a = makePool(pages, pageSize, extra);
        const b = makePool(pages, pageSize, extra);
        const ha = new Harness(a.pool, a.mem);
        for (const op of before) ha.run(op);
        a.pool.luaAlloc(12345, 8, 0); // an invalid free, to dirty that counter too
        a.pool.reset();
        if (JSON.stringify(snapshot(a.pool)) !== JSON.stringify(snapshot(b.pool))) throw new Error('reset pool differs from a fresh one');
        // Same future: identical addresses and statistics, op by op.
        const ha2 = new Harness(a.pool, a.mem);
        const hb = new Harness(b.pool, b.mem);
        for (const op of after) {
          ha2.run(op);
          hb.run(op);
          if (JSON.stringify(ha2.live.map((x) => x.addr)) !== JSON.stringify(hb.live.map((x) => x.addr))) throw new Error('addresses diverge after reset');
        }
        ha2.check();
        if (JSON.stringify(snapshot(a.pool)) !== JSON.stringify(snapshot(b.pool))) throw new Error('statistics diverge after reset');
      },
    ),
    { numRuns: 100 },
  );
  t.pass();
});

test('with base 0 no allocation is ever NULL', (t) => {
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 64 }), fc.array(opArb, { maxLength: 60, size: 'max' }), (pages, ops) => {
      const { pool, mem } = makePool(pages, 4096, { base: 0 });
      const h = new Harness(pool, mem);
      for (const op of ops) {
        h.run(op);
        if (h.live.some((b) => b.addr === 0)) throw new Error('NULL handed out');
      }
      pool.checkInvariants();
    }),
  );
  t.is(BASE % 4096, 0);
});
