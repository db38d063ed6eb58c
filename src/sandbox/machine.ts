/*
 * A machine: one Wasm instance of the Lua image, its page pool, the kernel's functions
 * installed in its function table, and the Lua state (or none between isolate calls).
 * A kernel owns one machine at a time and replaces it whole after a panic.
 *
 * Recycling: a clean shutdown hands the instance and its reserved pool region to the next
 * boot with the same pool geometry, instead of instantiating anew and growing memory by the
 * pool's size (which, for 64 MiB, makes V8 run a full GC: most of a boot's cost). A
 * recycled instance keeps nothing of its past but bytes in free pool pages, which no
 * script can read: Lua initializes every object before a script can see it, and buffers
 * are zero-filled. Invariants: a spare has no Lua state, no anonymous function-table slots
 * and no keyed slots pointing anywhere; at most MAX_SPARES per geometry are kept, and
 * never one that panicked.
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
  geometry: string;
  /** Where the image's stdout/stderr go: the log of the kernel using it now. */
  console: { log: KernelLog | null };
  /** Who answers the image's requests for fuel: the budget of the kernel using it now. */
  fuel: { budget: CallBudget | null };
}

/** Bytes of kernel memory beyond the pool: the image's data, stack, malloc heap and transfer buffers. */
const IMAGE_OVERHEAD_BYTES = 48 * 1024 * 1024;
const MAX_SPARES = 2;
const spares = new Map<string, Spare[]>();
const decoder = new TextDecoder();

export function startMachine(options: ResolvedOptions, log: KernelLog, modules: readonly LunatikModule[]): Machine {
  const { pages, pageSize, trackOwners, instructionLimit, timeLimitMs } = options;
  const spare = spares.get(`${pages}x${pageSize}`)?.pop() ?? newSpare(pages, pageSize);
  spare.console.log = log;
  const { image, strings } = spare;
  const pool = new PagePool({ base: spare.poolBase, pages, pageSize, heap: () => image.u8, trackOwners });
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

/** After a clean lua_close: the instance and its pool region wait for the next boot of the same geometry. */
export function recycleMachine(machine: Machine): void {
  const { spare } = machine;
  const list = spares.get(spare.geometry) ?? [];
  if (list.length >= MAX_SPARES) return;
  spare.image.functions.clear();
  spare.console.log = null;
  spare.fuel.budget = null;
  spare.image.api.lunatik_fuelstart(UNLIMITED_FUEL);
  list.push(spare);
  spares.set(spare.geometry, list);
}

function newSpare(pages: number, pageSize: number): Spare {
  const console: Spare['console'] = { log: null };
  const fuel: Spare['fuel'] = { budget: null };
  const image = LuaImage.instantiate({
    console: (fd, bytes) => console.log?.write(fd === 2 ? 3 : 6, decoder.decode(bytes).replace(/\n$/, '')),
    maxMemoryBytes: pages * pageSize + pageSize + IMAGE_OVERHEAD_BYTES,
    refuel: (used) => fuel.budget?.refuel(used) ?? 0,
  });
  return { image, strings: new LuaStrings(image), poolBase: reservePool(image, pages, pageSize), geometry: `${pages}x${pageSize}`, console, fuel };
}

/**
 * Takes the pool's region from the image's own heap, once, page-aligned. The image's
 * malloc never sees it again: from here on the pool alone hands out those pages.
 */
function reservePool(image: LuaImage, pages: number, pageSize: number): number {
  const raw = image.api.malloc(pages * pageSize + pageSize);
  if (raw === 0) throw new RangeError(`the Lua image cannot hold a pool of ${pages} pages of ${pageSize} bytes`);
  return Math.ceil(raw / pageSize) * pageSize;
}
