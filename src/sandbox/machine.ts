/*
 * A machine: one Wasm instance of the Lua image, its page pool, the kernel's functions
 * installed in its function table, and the Lua state (or none between isolate calls).
 * A kernel owns one machine at a time and replaces it whole after a panic.
 *
 * Memory: one Wasm memory per kernel, the image's own. The pool's region starts at the
 * end of the memory the image booted with (page-aligned) and is committed as the state
 * first needs it: the pool grows the memory (PagePool's commit), so V8 sees only the
 * pages in use as external memory and no boot makes it collect the whole heap, however
 * large the pool. The image's own heap (its malloc: a few static strings and transient
 * chunk names) stays below the region: its growth requests (emscripten_resize_heap) are
 * refused from then on, requests to it are capped well within the headroom it has, and the
 * kernel's transfers use the pool's scratch pages instead of that heap, so nothing makes it
 * grow. (Its allocator would not even ask: sbrk grows the heap silently while the memory is
 * larger than the heap, and the pool's committed pages are exactly that.) The pool's bookkeeping lives in the process's pool memory (src/memory/
 * pool-memory.ts), which the image cannot address.
 *
 * Recycling: a clean shutdown hands the instance (and the memory it has committed) to
 * the next boot with the same page size, instead of instantiating anew. A recycled
 * instance keeps nothing of its past but bytes in free pool pages, which no script can
 * read: Lua initializes every object before a script can see it, and buffers are
 * zero-filled. Invariants: a spare has no Lua state, no pool, no anonymous function-table
 * slots and no keyed slots pointing anywhere; at most MAX_SPARES per page size are kept,
 * never one that panicked, nor one whose pool committed more than MAX_SPARE_COMMITTED.
 */
import { hostFunctionRef } from '../../wasm/host-function.js';
import { LuaImage, UNLIMITED_FUEL } from '../../wasm/instance.js';
import { LuaStrings } from '../../wasm/lua-strings.js';
import type { LunatikModule } from '../bindings/module.js';
import { PagePool } from '../memory/index.js';
import { CallBudget } from './budget.js';
import { ChunkCache } from './chunk-cache.js';
import { installKernelFunctions } from './kernel-functions.js';
import type { KernelLog } from './klog.js';
import { declareModule, type ModuleHost } from './modules.js';
import type { ResolvedOptions } from './options.js';
import { ResultConverter } from './result.js';

export interface Machine extends ModuleHost {
  pool: PagePool;
  /** What a function of a removed module does if a surviving value still calls it. */
  removedStub: WebAssembly.ExportValue;
  allocFn: number;
  chunkName: number;
  textMode: number;
  /** The persistent state, or 0 in isolate mode between calls. */
  L: number;
  /** The per-call instruction budget and soft deadline: the image's fuel meter. */
  budget: CallBudget;
  /** Compiled chunks of the persistent state, text and byte sources apart (null in isolate mode, where every state is new). */
  chunks: { text: ChunkCache; bytes: ChunkCache } | null;
  /** How this machine's instance can serve another kernel. */
  spare: Spare;
}

interface Spare {
  image: LuaImage;
  strings: LuaStrings;
  poolBase: number;
  pageSize: number;
  /** Where the image's stdout/stderr go: the log of the kernel using it now. */
  console: { log: KernelLog | null };
  /** Who answers the image's requests for fuel: the budget of the kernel using it now. */
  fuel: { budget: CallBudget | null };
}

/** The image's memory before the pool's region: what it booted with, at most this. */
const IMAGE_MAX_BYTES = 64 * 1024 * 1024;
/** Free heap the image keeps below the pool for its own mallocs after boot (the kernel's static strings). */
const IMAGE_HEAP_HEADROOM = 64 * 1024;
const MAX_SPARES = 1;
/** A spare keeps what its pool committed: one that committed more is dropped instead, giving its memory back. */
const MAX_SPARE_COMMITTED = 4 * 1024 * 1024;
const spares = new Map<number, Spare[]>();
const WASM_PAGE = 65536;
const decoder = new TextDecoder();

export function startMachine(options: ResolvedOptions, log: KernelLog, modules: readonly LunatikModule[]): Machine {
  const { pages, pageSize, trackOwners, instructionLimit, timeLimitMs } = options;
  const spare = spares.get(pageSize)?.pop() ?? newSpare(pageSize);
  spare.console.log = log;
  const { image, strings, poolBase } = spare;
  if (poolBase + pages * pageSize > 2 ** 32) throw new RangeError(`a pool of ${pages} pages of ${pageSize} bytes does not fit a 32-bit image's memory`);
  const { memory } = image.api;
  const pool = new PagePool({
    base: poolBase,
    pages,
    pageSize,
    heap: () => image.u8,
    trackOwners,
    commit: (bytes) => {
      const short = poolBase + bytes - memory.buffer.byteLength;
      if (short <= 0) return true;
      try {
        memory.grow(Math.ceil(short / WASM_PAGE));
        return true;
      } catch {
        return false; // the host refused the memory: the allocation fails, the state gets ENOMEM
      }
    },
  });
  strings.scratch = (size) => pool.scratch(size);
  const machine: Machine = {
    image,
    strings,
    fns: installKernelFunctions(image, strings, log),
    results: new ResultConverter(image, strings),
    services: {
      printk: (level, text) => log.write(level, text),
      memoryInUse: () => pool.usedBytes,
      dmesg: () => log.read(),
    },
    declared: new Map(),
    removedStub: hostFunctionRef(strings, (L) => strings.raise(L, 'attempt to call a function of a removed module')),
    setOwner: trackOwners ? (label) => pool.setOwner(label) : undefined,
    pool,
    allocFn: image.functions.place(pool.wasmAllocFunction(image.api.memory)),
    chunkName: image.cstring('=sysLua'),
    textMode: image.cstring('t'),
    L: 0,
    chunks: options.isolate ? null : { text: new ChunkCache(), bytes: new ChunkCache() },
    budget: new CallBudget(image, instructionLimit, timeLimitMs),
    spare,
  };
  spare.fuel.budget = machine.budget;
  machine.budget.start();
  for (const module of modules) declareModule(module, machine);
  return machine;
}

/** After a clean lua_close: the pool's bookkeeping is given back, the instance waits for the next boot. */
export function recycleMachine(machine: Machine): void {
  const { spare } = machine;
  machine.pool.dispose();
  spare.strings.scratch = null;
  const list = spares.get(spare.pageSize) ?? [];
  if (list.length >= MAX_SPARES || spare.image.memoryBytes - spare.poolBase > MAX_SPARE_COMMITTED) return;
  spare.image.functions.clear();
  spare.console.log = null;
  spare.fuel.budget = null;
  spare.image.api.lunatik_fuelstart(UNLIMITED_FUEL);
  list.push(spare);
  spares.set(spare.pageSize, list);
}

function newSpare(pageSize: number): Spare {
  const console: Spare['console'] = { log: null };
  const fuel: Spare['fuel'] = { budget: null };
  const host = {
    console: (fd: 1 | 2, bytes: Uint8Array) => console.log?.write(fd === 2 ? 3 : 6, decoder.decode(bytes).replace(/\n$/, '')),
    maxMemoryBytes: IMAGE_MAX_BYTES,
    refuel: (used: number) => fuel.budget?.refuel(used) ?? 0,
  };
  const image = LuaImage.instantiate(host);
  const strings = new LuaStrings(image);
  // Make the heap hold its headroom now (an allocator keeps a freed top block), then
  // from here on the image's heap may not grow: the memory above belongs to the pool.
  const headroom = image.api.malloc(IMAGE_HEAP_HEADROOM);
  if (headroom === 0) throw new RangeError('the Lua image has no memory for its heap');
  image.api.free(headroom);
  const poolBase = Math.ceil(image.memoryBytes / pageSize) * pageSize;
  host.maxMemoryBytes = poolBase;
  // The image's allocator grows its heap (sbrk) without asking once the memory is larger,
  // i.e. into the pool's committed pages: keep its requests well within the headroom.
  image.maxHeapRequest = IMAGE_HEAP_HEADROOM / 4;
  return { image, strings, poolBase, pageSize, console, fuel };
}
