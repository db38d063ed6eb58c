// Example-based tests of PagePool: options, lua_Alloc contract, budget,
// statistics, leak reports, owners and the /proc-style text.
import test from 'ava';
import { PagePool, LUA_TSTRING, LUA_TTABLE, LUA_TFUNCTION, LUA_TUSERDATA, LUA_TTHREAD, type LuaTypeName } from '../../src/memory/index.js';
import { BASE, fill, firstMismatch, makePool, snapshot } from './helpers.js';
import { POOLS_PER_MEMORY, poolMemoryStats } from '../../src/memory/pool-memory.js';

const heap = (): Uint8Array => new Uint8Array(0);

test('bad options throw RangeError naming the option', (t) => {
  const bad: [Record<string, unknown>, RegExp][] = [
    [{ pages: 0 }, /"pages"/],
    [{ pages: -1 }, /"pages"/],
    [{ pages: 1.5 }, /"pages"/],
    [{ pages: Number.NaN }, /"pages"/],
    [{ pages: '4' }, /"pages"/],
    [{ pageSize: 4095 }, /"pageSize"/],
    [{ pageSize: 6000 }, /"pageSize"/],
    [{ pageSize: 2048 }, /"pageSize"/],
    [{ pageSize: 0 }, /"pageSize"/],
    [{ base: 100 }, /"base"/],
    [{ base: -4096 }, /"base"/],
    [{ base: 4096.5 }, /"base"/],
    [{ base: 0, pages: 2 ** 20 + 1 }, /4 GiB/],
    [{ base: 2 ** 32 - 4096, pages: 2 }, /4 GiB/],
  ];
  for (const [opts, msg] of bad) {
    const err = t.throws(() => new PagePool({ base: BASE, pages: 4, pageSize: 4096, heap, ...opts } as never), { instanceOf: RangeError }, JSON.stringify(opts));
    t.regex(err!.message, msg);
  }
  t.throws(() => new PagePool({ base: BASE, pages: 4, pageSize: 4096 } as never), { instanceOf: TypeError });
  // The edges are allowed: the region may end exactly at 4 GiB.
  t.notThrows(() => new PagePool({ base: 2 ** 32 - 8 * 65536, pages: 8, pageSize: 65536, heap }));
  t.notThrows(() => new PagePool({ base: 0, pages: 1, pageSize: 4096, heap }));
});

test('lua_Alloc contract: free, malloc, realloc in place and moving', (t) => {
  const { pool, mem } = makePool(64);
  t.is(pool.luaAlloc(0, LUA_TSTRING, 0), 0, 'malloc(0) is NULL');
  t.is(pool.luaAlloc(0, 0, 0), 0, 'free(NULL) is a no-op');
  t.is(pool.allocationCount, 0);
  t.is(pool.invalidPointers, 0);

  const a = pool.luaAlloc(0, LUA_TSTRING, 20);
  t.true(a >= BASE && a % 8 === 0);
  fill(mem, a, 20, 1);
  t.is(pool.luaAlloc(a, 20, 30), a, 'grow within kmalloc-32 stays in place');
  t.is(pool.luaAlloc(a, 30, 17), a, 'shrink within kmalloc-32 stays in place');
  t.is(firstMismatch(mem, a, 17, 1), -1);
  const b = pool.luaAlloc(a, 17, 5000);
  t.not(b, a, 'growing to another class moves');
  t.is(firstMismatch(mem, b, 17, 1), -1, 'moved bytes kept');
  fill(mem, b, 5000, 2);
  const c = pool.luaAlloc(b, 5000, 40);
  t.not(c, b, 'shrinking to a smaller class moves when it can');
  t.is(firstMismatch(mem, c, 40, 2), -1);
  t.is(pool.meminfo().usedBytes, 40);
  t.is(pool.meminfo().byType.strings, 40, 'realloc keeps the Lua type');
  t.is(pool.luaAlloc(c, 40, 0), 0);
  t.is(pool.meminfo().usedBytes, 0);
  t.is(pool.allocationCount, 5);
  pool.checkInvariants();
});

test('large blocks: exact page count, in-place grow into the pages after, tail given back', (t) => {
  const { pool, mem } = makePool(256);
  const p = pool.luaAlloc(0, 0, 9000); // 3 pages, not 4
  t.is(p % 4096, 0);
  t.is(pool.leaks()[0]!.sizeClass, 'pages-3');
  t.is(pool.usedPages(), 3);
  fill(mem, p, 9000, 3);
  t.is(pool.luaAlloc(p, 9000, 12288), p, 'same page count: in place');
  t.is(pool.luaAlloc(p, 12288, 10000), p, 'same page count: in place');
  t.is(pool.usedPages(), 3);
  const r = pool.luaAlloc(p, 10000, 100000); // 25 pages
  t.is(r, p, 'pages after it free: grows in place');
  t.is(pool.usedPages(), 25);
  const blocker = pool.luaAlloc(0, 0, 9000); // first fit: right after it
  t.is(blocker, BASE + 25 * 4096);
  const m = pool.luaAlloc(r, 100000, 200000); // 49 pages: the next ones are taken, must move
  t.is(m, BASE + 28 * 4096, 'moved to the lowest free run');
  t.is(pool.usedPages(), 49 + 3, 'old block freed after the copy');
  t.is(firstMismatch(mem, m, 9000, 3), -1);
  t.is(pool.luaAlloc(0, 0, 25 * 4096), BASE, 'the hole it left is used again');
  pool.luaAlloc(BASE, 25 * 4096, 0);
  pool.luaAlloc(blocker, 9000, 0);
  t.is(pool.luaAlloc(m, 200000, 20000), m, 'fewer pages: in place');
  t.is(pool.usedPages(), 5, 'the tail given back');
  t.is(pool.leaks()[0]!.sizeClass, 'pages-5');
  const s = pool.luaAlloc(m, 20000, 100);
  t.not(s, m, 'back to a slab');
  t.is(firstMismatch(mem, s, 100, 3), -1);
  pool.luaAlloc(s, 100, 0);
  pool.shrink();
  t.is(pool.usedPages(), 0);
  t.deepEqual(pool.buddyinfo(), makePool(256).pool.buddyinfo());
  pool.checkInvariants();
});

test('a pool holds as many large blocks as its pages allow: at most a page wasted per block', (t) => {
  const { pool } = makePool(16384); // 64 MiB
  const blocks: number[] = [];
  for (;;) {
    const p = pool.luaAlloc(0, LUA_TSTRING, (1 << 20) + 24); // a 1 MiB Lua string: 257 pages
    if (p === 0) break;
    blocks.push(p);
  }
  t.is(blocks.length, Math.floor(16384 / 257), '63, where power-of-two blocks allowed 31');
  t.is(pool.usedPages(), blocks.length * 257);
  pool.checkInvariants();
});

test('requests above one MAX_ORDER block span several buddy blocks', (t) => {
  const { pool, mem } = makePool(3000);
  const p = pool.luaAlloc(0, LUA_TSTRING, 6 * 1024 * 1024);
  t.not(p, 0);
  t.is(pool.leaks()[0]!.sizeClass, 'pages-1536');
  t.is(pool.usedPages(), 1536);
  fill(mem, p, 70000, 9);
  t.is(pool.luaAlloc(0, LUA_TSTRING, 6 * 1024 * 1024), 0, 'only one fits');
  t.is(pool.luaAlloc(p, 6 * 1024 * 1024, 3 * 1024 * 1024), p, 'shrinks in place');
  t.is(pool.usedPages(), 768);
  t.is(pool.luaAlloc(p, 3 * 1024 * 1024, 1024 * 1024), p, 'and again');
  t.is(pool.usedPages(), 256);
  t.is(firstMismatch(mem, p, 70000, 9), -1);
  t.is(pool.luaAlloc(0, 0, 3000 * 4096 + 1), 0, 'larger than the pool');
  t.is(pool.luaAlloc(p, 1024 * 1024, 3000 * 4096), p, 'grows in place to the whole pool');
  pool.luaAlloc(p, 3000 * 4096, 0);
  t.deepEqual(pool.buddyinfo(), makePool(3000).pool.buddyinfo());
  pool.checkInvariants();
});

test('budget: a full pool refuses, a failed realloc keeps the old block, frees make room again', (t) => {
  const { pool, mem } = makePool(16);
  const blocks: number[] = [];
  for (;;) {
    const p = pool.luaAlloc(0, LUA_TTABLE, 100);
    if (p === 0) break;
    fill(mem, p, 100, blocks.length);
    blocks.push(p);
  }
  t.is(blocks.length, 16 * Math.floor(4096 / 128));
  t.is(pool.meminfo().failedAllocations, 1);
  t.is(pool.meminfo().freePages, 0);
  t.is(pool.luaAlloc(0, 0, 20000), 0);
  t.is(pool.meminfo().failedAllocations, 2);

  const victim = blocks[7]!;
  t.is(pool.luaAlloc(victim, 100, 5000), 0, 'grow fails');
  t.is(pool.meminfo().failedAllocations, 3);
  t.is(firstMismatch(mem, victim, 100, 7), -1, 'old bytes intact');
  t.is(pool.meminfo().usedBytes, blocks.length * 100, 'old block still accounted');
  t.is(pool.luaAlloc(victim, 100, 50), victim, 'a shrink never fails');
  t.is(pool.luaAlloc(victim, 50, 100), victim);

  for (const p of blocks.splice(0, 96)) pool.luaAlloc(p, 100, 0);
  t.not(pool.luaAlloc(0, 0, 1000), 0, 'freed pages serve other classes again (kmalloc-1k: 2 pages)');
  t.not(pool.luaAlloc(0, LUA_TTABLE, 100), 0);
  t.is(pool.meminfo().failedAllocations, 3);
  pool.checkInvariants();
});

test('a failed large realloc keeps the old block live and intact', (t) => {
  const { pool, mem } = makePool(16);
  const p = pool.luaAlloc(0, LUA_TUSERDATA, 20000); // 5 pages
  fill(mem, p, 20000, 8);
  const q = pool.luaAlloc(0, 0, 40000); // 10 pages right after it
  t.not(q, 0);
  t.is(pool.luaAlloc(p, 20000, 40000), 0, '10 pages do not fit beside q');
  t.is(firstMismatch(mem, p, 20000, 8), -1);
  t.deepEqual(
    pool.leaks().map((l) => [l.address, l.size, l.luaType]),
    [
      [p, 20000, 'userdata'],
      [q, 40000, 'other'],
    ],
  );
  t.is(pool.meminfo().byType.userdata, 20000);
  t.is(pool.meminfo().failedAllocations, 1);
  pool.luaAlloc(q, 40000, 0);
  t.is(pool.luaAlloc(p, 20000, 40000), p, 'once q is gone, grows in place into the pages after it');
  t.is(pool.usedPages(), 10);
  t.is(pool.leaks()[0]!.sizeClass, 'pages-10');
  t.is(firstMismatch(mem, p, 20000, 8), -1);
  pool.checkInvariants();
});

test('with no room to move, a realloc the block can hold stays in place', (t) => {
  const { pool, mem } = makePool(8); // one kmalloc-8k slab (order 3) fills it
  const blocks = [0, 1, 2, 3].map(() => pool.luaAlloc(0, LUA_TSTRING, 8000));
  t.false(blocks.includes(0));
  t.is(pool.meminfo().freePages, 0);
  const p = blocks[0]!;
  fill(mem, p, 8000, 11);
  t.is(pool.luaAlloc(p, 8000, 16), p, 'shrink with no kmalloc-16 page: stays');
  t.is(pool.luaAlloc(p, 16, 20), p, 'grow within the 8k object: stays');
  t.is(pool.luaAlloc(p, 20, 8192), p, 'up to the object size');
  t.is(pool.luaAlloc(p, 8192, 8193), 0, 'past it: refused');
  t.is(firstMismatch(mem, p, 20, 11), -1);
  t.is(pool.meminfo().usedBytes, 8192 + 3 * 8000);
  t.is(pool.meminfo().failedAllocations, 1);
  pool.checkInvariants();
});

test('a large block shrinks in place when the pool has no room to move it', (t) => {
  const { pool, mem } = makePool(5);
  const p = pool.luaAlloc(0, 0, 20000); // 5 pages: the whole pool
  t.not(p, 0);
  fill(mem, p, 20000, 4);
  t.is(pool.luaAlloc(p, 20000, 64), p, 'no page for a kmalloc-64 slab: stays');
  t.is(firstMismatch(mem, p, 64, 4), -1);
  t.is(pool.usedPages(), 1, 'but gives back all pages but one');
  t.is(pool.leaks()[0]!.sizeClass, 'pages-1');
  t.is(pool.meminfo().usedBytes, 64);
  const q = pool.luaAlloc(p, 64, 500);
  t.not(q, p, 'with pages free again, a small block leaves its page for a slab');
  t.is(firstMismatch(mem, q, 64, 4), -1);
  t.is(pool.leaks()[0]!.sizeClass, 'kmalloc-512');
  t.is(pool.meminfo().failedAllocations, 0);
  pool.checkInvariants();
});

test('byType follows the Lua type tag, variants included', (t) => {
  const { pool } = makePool(64);
  const cases: [number, keyof ReturnType<PagePool['meminfo']>['byType'], LuaTypeName][] = [
    [LUA_TSTRING, 'strings', 'string'],
    [4 | (1 << 4), 'strings', 'string'],
    [LUA_TTABLE, 'tables', 'table'],
    [LUA_TFUNCTION, 'closures', 'function'],
    [6 | (2 << 4), 'closures', 'function'],
    [LUA_TUSERDATA, 'userdata', 'userdata'],
    [LUA_TTHREAD, 'threads', 'thread'],
    [9, 'others', 'upvalue'],
    [10, 'others', 'proto'],
    [0, 'others', 'other'],
    [100, 'others', 'other'],
    [1234, 'others', 'other'],
  ];
  for (const [tag, cat, name] of cases) {
    const p = pool.luaAlloc(0, tag, 24);
    const m = pool.meminfo();
    t.is(m.byType[cat], 24, `tag ${tag}`);
    t.is(Object.values(m.byType).reduce((a, b) => a + b, 0), 24);
    t.is(pool.leaks()[0]!.luaType, name);
    pool.luaAlloc(p, 24, 0);
  }
});

test('statistics: usedBytes, peakBytes, resetPeak, allocationCount', (t) => {
  const { pool } = makePool(64);
  const a = pool.luaAlloc(0, 4, 1000);
  const b = pool.luaAlloc(0, 5, 3000);
  t.is(pool.meminfo().usedBytes, 4000);
  pool.luaAlloc(b, 3000, 0);
  t.is(pool.meminfo().usedBytes, 1000);
  t.is(pool.meminfo().peakBytes, 4000);
  pool.resetPeak();
  t.is(pool.meminfo().peakBytes, 1000);
  pool.luaAlloc(a, 1000, 1500);
  t.is(pool.meminfo().peakBytes, 1500);
  t.is(pool.allocationCount, 3);
  const info = pool.slabinfo().find((s) => s.name === 'kmalloc-2k')!;
  t.is(info.activeObjects, 1);
  t.is(info.objectSize, 2048);
  t.true(info.totalObjects >= info.activeObjects && info.slabs >= 1);
  t.deepEqual(
    pool.slabinfo().map((s) => s.name),
    ['kmalloc-8', 'kmalloc-16', 'kmalloc-32', 'kmalloc-64', 'kmalloc-96', 'kmalloc-128', 'kmalloc-192', 'kmalloc-256', 'kmalloc-512', 'kmalloc-1k', 'kmalloc-2k', 'kmalloc-4k', 'kmalloc-8k'],
  );
});

test('leak report lists exactly the live blocks with type and sequence', (t) => {
  const { pool } = makePool(64);
  const a = pool.luaAlloc(0, LUA_TSTRING, 10); // seq 1
  const b = pool.luaAlloc(0, LUA_TTABLE, 56); // seq 2
  const c = pool.luaAlloc(0, LUA_TFUNCTION, 40000); // seq 3
  const d = pool.luaAlloc(0, LUA_TTHREAD, 200); // seq 4
  pool.luaAlloc(b, 56, 0);
  const e = pool.luaAlloc(a, 10, 100); // seq 5, moved to kmalloc-128
  t.deepEqual(pool.leaks(), [
    { address: c, size: 40000, sizeClass: 'pages-10', luaType: 'function', sequence: 3 },
    { address: d, size: 200, sizeClass: 'kmalloc-256', luaType: 'thread', sequence: 4 },
    { address: e, size: 100, sizeClass: 'kmalloc-128', luaType: 'string', sequence: 5 },
  ]);
  for (const [p, s] of [
    [c, 40000],
    [d, 200],
    [e, 100],
  ] as const)
    pool.luaAlloc(p, s, 0);
  t.deepEqual(pool.leaks(), []);
});

test('owners are recorded per block when trackOwners is on', (t) => {
  const { pool } = makePool(64, 4096, { trackOwners: true });
  pool.setOwner('buffer');
  const a = pool.luaAlloc(0, LUA_TUSERDATA, 64);
  const big = pool.luaAlloc(0, LUA_TUSERDATA, 20000);
  pool.setOwner(null);
  const b = pool.luaAlloc(0, LUA_TSTRING, 64);
  pool.setOwner('crypto');
  const c = pool.luaAlloc(0, LUA_TSTRING, 20);
  const a2 = pool.luaAlloc(a, 64, 500); // moved while 'crypto' is current: stays 'buffer'
  const leaks = pool.leaks();
  t.deepEqual(
    leaks.map((l) => [l.address, l.owner]),
    [
      [big, 'buffer'],
      [b, undefined],
      [c, 'crypto'],
      [a2, 'buffer'],
    ],
  );
  t.false('owner' in leaks[1]!);

  const off = makePool(64).pool;
  off.setOwner('buffer');
  off.luaAlloc(0, LUA_TSTRING, 20);
  t.false('owner' in off.leaks()[0]!);
});

test('pointers the pool did not hand out are counted and ignored', (t) => {
  const { pool, mem } = makePool(64);
  const a = pool.luaAlloc(0, LUA_TSTRING, 100);
  const big = pool.luaAlloc(0, 0, 30000);
  fill(mem, a, 100, 5);
  const before = pool.meminfo();
  pool.luaAlloc(a + 8, 100, 0); // interior of a slab object
  pool.luaAlloc(big + 4096, 30000, 0); // interior of a large block
  pool.luaAlloc(BASE - 8, 8, 0); // below the region
  pool.luaAlloc(BASE + 64 * 4096, 8, 0); // past the end
  t.is(pool.luaAlloc(a + 128, 100, 200), 0, 'realloc of a free object');
  t.is(pool.invalidPointers, 5);
  t.deepEqual(pool.meminfo(), before);
  pool.luaAlloc(a, 100, 0);
  pool.luaAlloc(a, 100, 0); // double free
  pool.luaAlloc(big, 30000, 0);
  pool.luaAlloc(big, 30000, 0);
  t.is(pool.invalidPointers, 7);
  t.is(pool.meminfo().usedBytes, 0);
  pool.checkInvariants();
});

test('arguments arriving as signed i32 (addresses >= 2 GiB) work', (t) => {
  const pool = new PagePool({ base: 2 ** 31, pages: 16, pageSize: 4096, heap });
  const p = pool.luaAlloc(0, LUA_TSTRING, 100);
  t.true(p >= 2 ** 31);
  t.is(pool.luaAlloc(p | 0, 100, 0), 0);
  t.is(pool.meminfo().usedBytes, 0);
  t.is(pool.invalidPointers, 0);
});

test('realloc copies through a fresh heap view (memory.grow replaces the buffer)', (t) => {
  let mem = new Uint8Array(BASE + 32 * 4096);
  const pool = new PagePool({ base: BASE, pages: 32, pageSize: 4096, heap: () => mem });
  const p = pool.luaAlloc(0, LUA_TSTRING, 50);
  fill(mem, p, 50, 6);
  const grown = new Uint8Array(mem.length * 2);
  grown.set(mem);
  mem = grown;
  const q = pool.luaAlloc(p, 50, 3000);
  t.not(q, p);
  t.is(firstMismatch(mem, q, 50, 6), -1);
});

test('reset() frees everything at once', (t) => {
  const { pool } = makePool(100, 4096, { trackOwners: true });
  pool.setOwner('x');
  for (let i = 0; i < 500; i++) pool.luaAlloc(0, 4, (i * 37) % 20000 + 1);
  t.true(pool.usedPages() > 0);
  pool.reset();
  t.deepEqual(snapshot(pool), snapshot(makePool(100, 4096, { trackOwners: true }).pool));
  t.is(pool.luaAlloc(0, 4, 10), makePool(100).pool.luaAlloc(0, 4, 10));
  t.is(pool.leaks()[0]!.owner, undefined, 'owner label cleared by reset');
});

test('freed empty slabs are cached one per class, and shrink() returns them', (t) => {
  const { pool } = makePool(64);
  const a = pool.luaAlloc(0, 4, 64);
  pool.luaAlloc(a, 64, 0);
  t.is(pool.usedPages(), 1, 'kmalloc-64 keeps its empty slab');
  t.is(pool.slabinfo()[3]!.slabs, 1);
  t.is(pool.slabinfo()[3]!.activeSlabs, 0);
  t.is(pool.shrink(), 1);
  t.is(pool.usedPages(), 0);
});

test('a cached empty slab never causes a refusal', (t) => {
  const { pool } = makePool(4);
  const a = pool.luaAlloc(0, 4, 64);
  pool.luaAlloc(a, 64, 0);
  t.is(pool.usedPages(), 1, 'kmalloc-64 keeps a spare slab');
  const big = pool.luaAlloc(0, 4, 9000); // order 2: all 4 pages
  t.not(big, 0, 'the spare is given back to make room');
  pool.luaAlloc(big, 9000, 0);
  const b = pool.luaAlloc(0, 4, 300);
  pool.luaAlloc(b, 300, 0); // now kmalloc-512 holds a spare
  t.not(pool.luaAlloc(0, 4, 2000), 0, 'kmalloc-2k slabs are order 2: the kmalloc-512 spare goes back too');
  t.is(pool.meminfo().failedAllocations, 0);
});

test('text renderers use the /proc layouts', (t) => {
  const { pool } = makePool(256);
  pool.luaAlloc(0, LUA_TSTRING, 100);
  pool.luaAlloc(0, LUA_TTABLE, 64);
  pool.luaAlloc(0, 0, 1 << 19);
  const mi = pool.formatMeminfo();
  t.regex(mi, /^MemTotal: +1024 kB$/m);
  t.regex(mi, /^MemFree: +\d+ kB$/m);
  t.regex(mi, /^Used: +513 kB$/m);
  t.regex(mi, /^Peak: +513 kB$/m);
  t.regex(mi, /^Large: +512 kB$/m);
  t.regex(mi, /^Slab: +8 kB$/m);
  t.regex(mi, /^FailedAllocs: +0$/m);
  for (const k of ['Strings', 'Tables', 'Closures', 'Userdata', 'Threads', 'Others']) t.regex(mi, new RegExp(`^${k}: +\\d+ kB$`, 'm'));
  t.regex(mi, /^Strings: +1 kB$/m);
  t.is(mi.split('\n')[0]!.indexOf('1024'), 16 + 8 - 4, 'name padded to 16, value right-aligned in 8');

  const bi = pool.formatBuddyinfo();
  t.regex(bi, /^Node 0, zone +Lua( +\d+){11} *\n$/);
  t.is(bi, `Node 0, zone      Lua ${pool.buddyinfo().map((n) => String(n).padStart(6) + ' ').join('')}\n`);

  const si = pool.formatSlabinfo().split('\n');
  t.is(si[0], 'slabinfo - version: 2.1');
  t.true(si[1]!.startsWith('# name            <active_objs> <num_objs> <objsize> <objperslab> <pagesperslab> : tunables'));
  const row = si.find((l) => l.startsWith('kmalloc-128 '))!;
  t.truthy(row);
  t.deepEqual(row.split(/\s+/).slice(0, 6), ['kmalloc-128', '1', '32', '128', '32', '1']);
  t.regex(row, / : tunables +0 +0 +0 : slabdata +1 +1 +0$/);
  t.is(si.filter((l) => l.startsWith('kmalloc-')).length, 13);
});

test('with a commit function, pages are committed as the state first needs them, up to the pool size', (t) => {
  const memory = new WebAssembly.Memory({ initial: 1 }); // the region starts at 64 KiB, uncommitted
  const base = 65536;
  const asked: number[] = [];
  const commit = (bytes: number): boolean => {
    asked.push(bytes);
    const need = base + bytes - memory.buffer.byteLength;
    if (need > 0) memory.grow(Math.ceil(need / 65536));
    return true;
  };
  const pool = new PagePool({ base, pages: 1024, pageSize: 4096, heap: () => new Uint8Array(memory.buffer), commit });
  t.is(pool.committedPages, 16, 'one Wasm page to start with');
  t.is(memory.buffer.byteLength, base + 65536);
  const small: number[] = [];
  for (let i = 0; i < 100; i++) small.push(pool.luaAlloc(0, LUA_TTABLE, 64));
  t.is(pool.committedPages, 16, 'small objects fit the first pages');
  const big = pool.luaAlloc(0, LUA_TSTRING, 1 << 20); // 256 pages: commits more, at the end
  t.not(big, 0);
  t.true(pool.committedPages >= 256 && pool.committedPages < 1024, `${pool.committedPages} pages committed`);
  t.true(memory.buffer.byteLength >= big + (1 << 20), 'the block lies in committed memory');
  new Uint8Array(memory.buffer).fill(7, big, big + (1 << 20));
  t.is(pool.meminfo().totalPages, 1024, 'the budget is the whole pool');
  t.is(pool.meminfo().freePages, 1024 - pool.usedPages());
  pool.checkInvariants();
  // Up to the pool's size, not beyond.
  const rest: number[] = [];
  for (let p = pool.luaAlloc(0, 0, 1 << 18); p !== 0; p = pool.luaAlloc(0, 0, 1 << 18)) rest.push(p);
  t.is(pool.committedPages, 1024);
  t.true(asked.every((b) => b <= 1024 * 4096));
  t.is(memory.buffer.byteLength, base + 1024 * 4096);
  pool.checkInvariants();
  for (const p of [...small, big, ...rest]) pool.luaAlloc(p, 1, 0);
  pool.shrink();
  t.is(pool.usedPages(), 0);
  pool.checkInvariants();
});

test('a pool whose memory cannot grow refuses like a full one', (t) => {
  let allowed = 65536 * 2;
  const memory = new WebAssembly.Memory({ initial: 1 });
  const commit = (bytes: number): boolean => {
    if (bytes > allowed) return false;
    const need = 65536 + bytes - memory.buffer.byteLength;
    if (need > 0) memory.grow(Math.ceil(need / 65536));
    return true;
  };
  const pool = new PagePool({ base: 65536, pages: 1024, pageSize: 4096, heap: () => new Uint8Array(memory.buffer), commit });
  t.not(pool.luaAlloc(0, 0, 100000), 0, '25 pages fit the 32 the host allows');
  t.is(pool.luaAlloc(0, 0, 100000), 0, 'refused: the host gives no more memory');
  t.is(pool.failedAllocations, 1);
  allowed = 65536 * 4;
  t.not(pool.luaAlloc(0, 0, 100000), 0, 'and served once it does');
  pool.checkInvariants();
});

test('a pool memory whose pools are all disposed of is dropped: a crowd of pools leaves no peak behind', (t) => {
  const before = poolMemoryStats().memories;
  const pools = Array.from({ length: POOLS_PER_MEMORY * 3 }, () => makePool(4).pool);
  for (const pool of pools) pool.luaAlloc(0, LUA_TTABLE, 64);
  t.true(poolMemoryStats().memories >= before + 2, 'the pools spread over several memories');
  for (const pool of pools) pool.dispose();
  t.true(poolMemoryStats().memories <= before + 1, 'only the memory new pools go to is kept');
});
