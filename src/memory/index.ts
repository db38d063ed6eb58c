/*
 * Public face of the fixed page allocator. The kernel needs PagePool; the
 * lower layers are exported for tests, tools and benchmarks that want to
 * look at one layer alone.
 */

export { PagePool, type PagePoolOptions, type PoolStatistics, type MemInfo, type SlabInfo, type LeakRecord } from './pool.js';
export { BuddyAllocator, MAX_ORDER } from './buddy.js';
export { SlabAllocator, SlabCache, SIZE_CLASSES, KMALLOC_MAX_SIZE, sizeClassOf, slabName } from './slab.js';
export { LargeAllocator } from './large.js';
export { formatMeminfo, formatBuddyinfo, formatSlabinfo } from './format.js';
export {
  LUA_TSTRING,
  LUA_TTABLE,
  LUA_TFUNCTION,
  LUA_TUSERDATA,
  LUA_TTHREAD,
  LUA_TUPVAL,
  LUA_TPROTO,
  CATEGORY_NAMES,
  basicType,
  luaTypeName,
  type LuaTypeName,
  type TypeCategory,
} from './luatype.js';
