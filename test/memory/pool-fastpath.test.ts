// The page pool's Wasm fast path (wasm/pool-fastpath.wat, wasm/pool-copy.wat): the committed
// bytes are the .wat files, and every call through the Wasm entry points leaves the pool
// exactly as the JavaScript implementation (luaAllocJs) leaves a twin pool, statistics,
// sequence numbers, owners and leak reports included, across resets, shrinks and growth of
// the pool's own memory.
import test from 'ava';
import fc from 'fast-check';
import { PagePool, sizeClassOf } from '../../src/memory/index.js';
import { POOL_COPY_WASM, POOL_FASTPATH_WASM } from '../../wasm/pool-fastpath.bytes.js';
import { poolCopyModule, poolFastPathModule } from '../../wasm/pool-fastpath.js';
import type { PoolMemory } from '../../src/memory/pool-memory.js';
import { categoryOf, emptyByType, fill, firstMismatch, makePool, snapshot } from './helpers.js';
import { POOL_FASTPATH, assemble, committed, render } from '../wat.js';

test('the committed bytes are wat2wasm of pool-fastpath.wat and pool-copy.wat (else: node dist/test/wat.js --write)', async (t) => {
  t.deepEqual([...POOL_FASTPATH_WASM], [...(await assemble('wasm/pool-fastpath.wat'))]);
  t.deepEqual([...POOL_COPY_WASM], [...(await assemble('wasm/pool-copy.wat'))]);
  t.is(committed(POOL_FASTPATH), await render(POOL_FASTPATH), 'the generated file is exactly what the generator writes');
});

test('the modules have the imports and exports the loader expects', (t) => {
  const fast = poolFastPathModule();
  t.deepEqual(WebAssembly.Module.exports(fast).map((e) => `${e.kind} ${e.name}`), ['function alloc']);
  t.deepEqual(WebAssembly.Module.imports(fast).map((i) => `${i.kind} ${i.module}.${i.name}`).sort(),
    ['function pool.copy', 'function pool.emptied', 'function pool.slow', 'global pool.header', 'memory pool.memory']);
  const copy = poolCopyModule();
  t.deepEqual(WebAssembly.Module.exports(copy).map((e) => `${e.kind} ${e.name}`), ['function copy']);
  t.deepEqual(WebAssembly.Module.imports(copy).map((i) => `${i.kind} ${i.module}.${i.name}`), ['memory image.memory']);
});

// ---------------------------------------------------------------------------------------
// Differential model: pool A through the Wasm entry point, pool B through luaAllocJs.

type Op =
  | { kind: 'alloc'; size: number; tag: number }
  | { kind: 'realloc'; pick: number; size: number }
  | { kind: 'free'; pick: number }
  | { kind: 'bad'; pick: number; how: number }
  | { kind: 'owner'; label: number }
  | { kind: 'shrink' }
  | { kind: 'resetPeak' }
  | { kind: 'reset' };

// Mostly small sizes, so nearly every call is one the fast path serves; some large ones
// so slabs and large blocks compete for pages and the budget refuses.
const sizeArb = fc.oneof(
  { weight: 6, arbitrary: fc.integer({ min: 1, max: 128 }) },
  { weight: 3, arbitrary: fc.integer({ min: 1, max: 8192 }) },
  { weight: 1, arbitrary: fc.integer({ min: 8193, max: 40000 }) },
  { weight: 1, arbitrary: fc.constantFrom(8, 9, 16, 17, 32, 33, 64, 65, 96, 97, 192, 8192, 8193) },
);
const tagArb = fc.constantFrom(0, 4, 5, 6, 7, 8, 9, 10, 20, 38, 63, 64, 100, -1, 1234);
const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 12, arbitrary: fc.record({ kind: fc.constant('alloc' as const), size: sizeArb, tag: tagArb }) },
  { weight: 6, arbitrary: fc.record({ kind: fc.constant('realloc' as const), pick: fc.nat(), size: sizeArb }) },
  { weight: 10, arbitrary: fc.record({ kind: fc.constant('free' as const), pick: fc.nat() }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('bad' as const), pick: fc.nat(), how: fc.nat(6) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('owner' as const), label: fc.integer({ min: -1, max: 3 }) }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'shrink' as const }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'resetPeak' as const }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'reset' as const }) },
);

interface Live {
  addr: number;
  size: number;
  tag: number;
  seed: number;
}

/** Runs the same calls on a pool through the fast path and on a twin through JS alone. */
class Twins {
  readonly live: Live[] = [];
  private dead: Live[] = [];
  private seed = 1;
  constructor(
    readonly a: PagePool,
    private readonly heapA: () => Uint8Array,
    readonly b: PagePool,
    private readonly heapB: () => Uint8Array,
    readonly callA: (ptr: number, osize: number, nsize: number) => number = (p, o, n) => a.luaAlloc(p, o, n),
  ) {}

  private get mems(): Uint8Array[] {
    return [this.heapA(), this.heapB()];
  }

  private both(ptr: number, osize: number, nsize: number): number {
    const ra = this.callA(ptr, osize, nsize) >>> 0;
    const rb = this.b.luaAllocJs(ptr, osize, nsize);
    if (ra !== rb) throw new Error(`lua_Alloc(${ptr}, ${osize}, ${nsize}): fast path ${ra}, JS ${rb}`);
    return ra;
  }

  run(op: Op): void {
    const { live } = this;
    switch (op.kind) {
      case 'alloc': {
        const addr = this.both(0, op.tag, op.size);
        if (addr !== 0) this.add(addr, op.size, op.tag);
        return;
      }
      case 'owner': {
        const label = op.label < 0 ? null : `owner${op.label}`;
        this.a.setOwner(label);
        this.b.setOwner(label);
        return;
      }
      case 'shrink':
        if (this.a.shrink() !== this.b.shrink()) throw new Error('shrink() freed different page counts');
        return;
      case 'resetPeak':
        this.a.resetPeak();
        this.b.resetPeak();
        return;
      case 'reset':
        this.a.reset();
        this.b.reset();
        // Every block of before is a stale pointer now, its record left as it was.
        this.dead = [...this.dead, ...this.live].slice(-32);
        this.live.length = 0;
        return;
      case 'bad': {
        // Pointers the pool must count and ignore: freed, interior, outside the region.
        const end = this.a.base + this.a.pages * this.a.pageSize;
        const candidates = [
          this.dead[op.pick % Math.max(1, this.dead.length)]?.addr ?? this.a.base,
          this.dead[this.dead.length - 1 - (op.pick % Math.max(1, this.dead.length))]?.addr ?? this.a.base,
          (live[op.pick % Math.max(1, live.length)]?.addr ?? this.a.base) + 8,
          this.a.base - 8,
          end,
          end + 4096,
          this.a.base + ((op.pick * 8) % (this.a.pages * this.a.pageSize)),
        ];
        const ptr = candidates[op.how % candidates.length]!;
        if (ptr === 0 || live.some((x) => x.addr === ptr)) return; // NULL is no bad pointer; nor is a live block
        this.both(ptr, 8, op.pick % 2 === 0 ? 0 : 24);
        return;
      }
    }
    if (live.length === 0) return;
    const i = op.pick % live.length;
    const x = live[i]!;
    this.assertIntact(x);
    if (op.kind === 'free') {
      this.both(x.addr, x.size, 0);
      live.splice(i, 1);
      this.dead.push(x);
      if (this.dead.length > 32) this.dead.shift();
      return;
    }
    const addr = this.both(x.addr, x.size, op.size);
    if (addr === 0) {
      this.assertIntact(x);
      return;
    }
    const keep = Math.min(x.size, op.size);
    for (const mem of this.mems) {
      const bad = firstMismatch(mem, addr, keep, x.seed);
      if (bad >= 0) throw new Error(`realloc ${x.size} -> ${op.size} lost byte ${bad}`);
    }
    live.splice(i, 1);
    if (addr !== x.addr) this.dead.push(x);
    this.add(addr, op.size, x.tag);
  }

  private add(addr: number, size: number, tag: number): void {
    const x = { addr, size, tag, seed: this.seed++ };
    for (const mem of this.mems) fill(mem, addr, size, x.seed);
    this.dead = this.dead.filter((d) => d.addr !== addr);
    this.live.push(x);
  }

  private assertIntact(x: Live): void {
    for (const mem of this.mems) {
      const bad = firstMismatch(mem, x.addr, x.size, x.seed);
      if (bad >= 0) throw new Error(`block ${x.addr}+${x.size} corrupted at byte ${bad}`);
    }
  }

  /** Same observable state in both pools, invariants hold, statistics match the model. */
  check(): void {
    const { a, b, live } = this;
    a.checkInvariants();
    const sa = JSON.stringify(fullSnapshot(a));
    const sb = JSON.stringify(fullSnapshot(b));
    if (sa !== sb) throw new Error(`fast path and JS pools differ:\n${sa}\n${sb}`);
    const m = a.meminfo();
    const byType = emptyByType();
    let used = 0;
    for (const x of live) {
      used += x.size;
      byType[categoryOf(x.tag)] += x.size;
    }
    if (m.usedBytes !== used) throw new Error(`usedBytes ${m.usedBytes}, model ${used}`);
    for (const k of Object.keys(byType) as (keyof typeof byType)[]) {
      if (m.byType[k] !== byType[k]) throw new Error(`byType.${k} ${m.byType[k]}, model ${byType[k]}`);
    }
    const got = a.leaks().map((l) => `${l.address}:${l.size}`).sort();
    const want = live.map((x) => `${x.addr}:${x.size}`).sort();
    if (got.join() !== want.join()) throw new Error('leak report is not the live set');
    const seqs = a.leaks().map((l) => l.sequence);
    if (new Set(seqs).size !== seqs.length || seqs.some((q) => !(q >= 1 && q <= a.allocationCount))) throw new Error(`bad sequence numbers ${seqs.join()}`);
  }
}

function fullSnapshot(pool: PagePool): unknown {
  return { ...(snapshot(pool) as object), peak: pool.peakBytes, allocated: pool.allocatedBytes, usedPages: pool.usedPages() };
}

const geometryArb = fc.oneof(
  fc.record({ pageSize: fc.constant(4096), pages: fc.integer({ min: 1, max: 24 }) }),
  fc.record({ pageSize: fc.constant(4096), pages: fc.integer({ min: 24, max: 200 }) }),
  fc.record({ pageSize: fc.constant(8192), pages: fc.integer({ min: 1, max: 40 }) }),
  fc.record({ pageSize: fc.constant(65536), pages: fc.integer({ min: 1, max: 8 }) }),
);

test('property: the Wasm entry point and the JS implementation leave identical pools, op by op', (t) => {
  fc.assert(
    fc.property(geometryArb, fc.boolean(), fc.boolean(), fc.array(opArb, { minLength: 1, maxLength: 300, size: 'max' }), ({ pages, pageSize }, owners, zeroBase, ops) => {
      const extra = { trackOwners: owners, ...(zeroBase && pageSize === 4096 ? { base: 0 } : {}) };
      const A = makePool(pages, pageSize, extra);
      const B = makePool(pages, pageSize, extra);
      const tw = new Twins(A.pool, () => A.mem, B.pool, () => B.mem);
      ops.forEach((op, j) => {
        tw.run(op);
        if (j % 25 === 0) tw.check();
      });
      tw.check();
      for (const x of [...tw.live]) tw.run({ kind: 'free', pick: tw.live.indexOf(x) });
      tw.check();
      if (A.pool.usedBytes !== 0 || A.pool.leaks().length !== 0) throw new Error('bytes left after freeing all');
    }),
    { numRuns: 200 },
  );
  t.pass();
});

// ---------------------------------------------------------------------------------------
// The kernel's configuration: the pool inside a WebAssembly.Memory, reallocs copied by
// pool-copy.wasm, the fast path called as an exported Wasm function.

function imagePool(pages: number, pageSize = 4096, extra: { trackOwners?: boolean } = {}): { pool: PagePool; memory: WebAssembly.Memory; heap: () => Uint8Array } {
  const base = pageSize;
  const memory = new WebAssembly.Memory({ initial: Math.ceil((base + pages * pageSize) / 65536) });
  let view = new Uint8Array(memory.buffer);
  const heap = () => (view.byteLength === 0 || view.buffer !== memory.buffer ? (view = new Uint8Array(memory.buffer)) : view);
  return { pool: new PagePool({ base, pages, pageSize, heap, ...extra }), memory, heap };
}

test('property: through the image-memory entry point (Wasm copies), the same as JS', (t) => {
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 120 }), fc.boolean(), fc.array(opArb, { minLength: 1, maxLength: 250, size: 'max' }), (pages, owners, ops) => {
      const A = imagePool(pages, 4096, { trackOwners: owners });
      const B = makePool(pages, 4096, { trackOwners: owners });
      const alloc = A.pool.wasmAllocFunction(A.memory) as unknown as (ud: number, p: number, o: number, n: number) => number;
      // Mix both entry points of A: they share one state.
      let k = 0;
      const call = (p: number, o: number, n: number) => (k++ % 3 === 0 ? A.pool.luaAlloc(p, o, n) : alloc(0, p, o, n));
      const tw = new Twins(A.pool, A.heap, B.pool, () => B.mem, call);
      ops.forEach((op, j) => {
        if (j === Math.floor(ops.length / 2)) A.memory.grow(1); // the image's memory grows under the pool
        tw.run(op);
      });
      tw.check();
    }),
    { numRuns: 100 },
  );
  t.pass();
});

test('wasmAllocFunction only takes the memory heap() views, and returns one function per memory', (t) => {
  const { pool, memory } = imagePool(8);
  t.is(pool.wasmAllocFunction(memory), pool.wasmAllocFunction(memory));
  t.not(pool.wasmAllocFunction(memory), pool.wasmAllocFunction());
  t.throws(() => pool.wasmAllocFunction(new WebAssembly.Memory({ initial: 1 })), { instanceOf: TypeError });
});

// ---------------------------------------------------------------------------------------
// Which calls stay in Wasm.

function countSlowCalls(pool: PagePool): { readonly n: number } {
  const counter = { n: 0 };
  const js = pool.luaAllocJs.bind(pool);
  pool.luaAllocJs = (ptr, osize, nsize) => {
    counter.n++;
    return js(ptr, osize, nsize);
  };
  return counter;
}

test('malloc, free and small reallocs with partial slabs never call into JavaScript', (t) => {
  const { pool, memory } = imagePool(256);
  const alloc = pool.wasmAllocFunction(memory) as unknown as (ud: number, p: number, o: number, n: number) => number;
  const slow = countSlowCalls(pool);
  // One slab per class first (those calls are JS's: a slab needs pages).
  const warm = [16, 32, 64, 128, 8192].map((n) => alloc(0, 0, 5, n));
  t.is(slow.n, 5);
  const before = slow.n;
  const blocks: number[] = [];
  for (let i = 0; i < 50; i++) blocks.push(alloc(0, 0, 4, 16 + (i % 16)));
  for (let i = 0; i < 50; i += 2) blocks[i] = alloc(0, blocks[i]!, 16, 20); // same class: in place
  for (let i = 1; i < 50; i += 2) blocks[i] = alloc(0, blocks[i]!, 17, 30); // 16 -> 32: moves
  for (const p of blocks) alloc(0, p, 30, 0);
  t.is(slow.n, before, 'no call reached JavaScript');
  for (const p of warm) alloc(0, p, 1, 0); // emptied slabs: JS is called to keep or free them, not to free the object
  t.is(slow.n, before);
  pool.checkInvariants();
  t.is(pool.usedBytes, 0);
  t.is(pool.allocationCount, 5 + 50 + 50);
});

test('large blocks, new slabs, refusals and bad pointers go to JavaScript', (t) => {
  const { pool } = makePool(3);
  const slow = countSlowCalls(pool);
  const big = pool.luaAlloc(0, 0, 9000); // 3 pages: the whole pool
  t.is(slow.n, 1);
  t.is(pool.luaAlloc(0, 0, 9000), 0, 'refused');
  t.is(pool.luaAlloc(0, 4, 10), 0, 'no page left for a slab');
  t.is(slow.n, 3);
  pool.luaAlloc(big + 8, 9000, 0);
  t.is(slow.n, 4);
  t.is(pool.invalidPointers, 1);
  t.is(pool.failedAllocations, 2);
});

// ---------------------------------------------------------------------------------------
// Statistics and metadata written by the fast path.

test('owners, types and sequence numbers of fast-path blocks are exact, moves keep type and owner', (t) => {
  const { pool } = makePool(64, 4096, { trackOwners: true });
  const spare = pool.luaAlloc(0, 4, 40); // kmalloc-64 has a slab now
  pool.luaAlloc(0, 4, 20); // kmalloc-32 too
  const slow = countSlowCalls(pool);
  pool.setOwner('buffer');
  const a = pool.luaAlloc(0, 7, 24); // seq 3, kmalloc-32 slab exists
  pool.setOwner('crypto');
  const b = pool.luaAlloc(0, 5, 28); // seq 4
  const a2 = pool.luaAlloc(a, 24, 50); // seq 5: moved to kmalloc-64, stays 'buffer'
  pool.setOwner(null);
  const c = pool.luaAlloc(0, 4, 30); // seq 6, no owner
  t.is(slow.n, 0);
  t.not(a2, a);
  const leaks = pool.leaks().filter((l) => [a2, b, c].includes(l.address));
  t.deepEqual(
    leaks.map((l) => [l.address, l.size, l.luaType, l.sequence, l.owner]),
    [
      [b, 28, 'table', 4, 'crypto'],
      [a2, 50, 'userdata', 5, 'buffer'],
      [c, 30, 'string', 6, undefined],
    ],
  );
  t.is(pool.meminfo().byType.userdata, 50);
  t.is(pool.allocationCount, 6);
  pool.luaAlloc(spare, 40, 0);
  pool.checkInvariants();
});

test('peakBytes and allocatedBytes follow fast-path calls exactly', (t) => {
  const { pool } = makePool(16);
  const p = pool.luaAlloc(0, 4, 8);
  pool.luaAlloc(p, 8, 0);
  pool.resetPeak();
  const q = pool.luaAlloc(0, 4, 8); // fast
  const r = pool.luaAlloc(0, 4, 7);
  t.is(pool.peakBytes, 15);
  pool.luaAlloc(q, 8, 0);
  t.is(pool.peakBytes, 15);
  t.is(pool.usedBytes, 7);
  pool.luaAlloc(r, 7, 3); // shrink in place: allocated does not move
  t.is(pool.allocatedBytes, 8 + 8 + 7);
  pool.luaAlloc(r, 3, 8); // grow in place by 5
  t.is(pool.allocatedBytes, 8 + 8 + 7 + 5);
  t.is(pool.peakBytes, 15);
});

test('a pool under load: 2M fast-path objects, every block accounted for', (t) => {
  // 4096 pages of 8-byte objects: 2M records, the pool memory grows for them.
  const { pool } = makePool(4096);
  const blocks: number[] = [];
  for (;;) {
    const p = pool.luaAlloc(0, 4, 8);
    if (p === 0) break;
    blocks.push(p);
  }
  t.is(blocks.length, 4096 * 512);
  t.is(pool.usedBytes, blocks.length * 8);
  t.is(pool.failedAllocations, 1);
  pool.checkInvariants();
  for (let i = 0; i < blocks.length; i += 2) pool.luaAlloc(blocks[i]!, 8, 0);
  t.is(pool.leaks().length, blocks.length / 2);
  for (let i = 1; i < blocks.length; i += 2) pool.luaAlloc(blocks[i]!, 8, 0);
  t.is(pool.usedBytes, 0);
  pool.shrink();
  t.is(pool.usedPages(), 0);
  pool.checkInvariants();
});

test('the pool memory grows under a live pool (any pool can grow it): its views rebind', (t) => {
  const { pool, mem: heap } = makePool(1024);
  const blocks: number[] = [];
  for (let i = 0; i < 2000; i++) blocks.push(pool.luaAlloc(0, 4, 8 + (i % 200)));
  const mem = (pool as unknown as { mem: PoolMemory }).mem;
  const generation = mem.generation;
  const fillerBytes = mem.byteLength;
  const filler = mem.alloc(fillerBytes); // as another pool of this memory would: every view of this one is detached
  t.not(filler, 0);
  t.true(mem.generation > generation, 'the memory grew');
  for (let i = 0; i < 2000; i += 2) pool.luaAlloc(blocks[i]!, 8 + (i % 200), 0);
  for (let i = 0; i < 500; i++) blocks.push(pool.luaAlloc(0, 4, 300 + i));
  fill(heap, blocks[1]!, 9, 7);
  t.is(firstMismatch(heap, blocks[1]!, 9, 7), -1);
  pool.checkInvariants();
  t.is(pool.leaks().length, 1000 + 500);
  mem.free(filler, fillerBytes);
});

test('after reset() the fast path serves a fresh pool: same addresses as a new one', (t) => {
  const A = makePool(32);
  for (let i = 0; i < 300; i++) A.pool.luaAlloc(0, 4, (i % 100) + 1);
  A.pool.reset();
  const B = makePool(32);
  for (let i = 0; i < 300; i++) {
    const size = (i * 37) % 300 + 1;
    t.is(A.pool.luaAlloc(0, 4, size), B.pool.luaAlloc(0, 4, size));
  }
  t.deepEqual(snapshot(A.pool), snapshot(B.pool));
  t.is(sizeClassOf(8), 0);
});
