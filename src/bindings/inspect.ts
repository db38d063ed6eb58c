/*
 * lunatik_inspect: gc_count(), the memory the Lua state holds, in KiB.
 *
 * lunatik-ng's inspect module also exported `type`; here `type` is Lua's own base
 * function, always present, so `type({ 123 })` is "table" as Lua says (lunatik-ng's
 * README example claiming "number" is wrong, and its own binding agreed with Lua).
 */
import type { LunatikModule } from './module.js';

export const inspect: LunatikModule = {
  name: 'inspect',
  init(ctx) {
    ctx.function('gc_count', (lua, L) => {
      lua.pushInteger(L, Math.floor(ctx.kernel.memoryInUse() / 1024));
      return 1;
    });
  },
};
