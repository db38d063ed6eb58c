/*
 * lunatik_printk: printk(fmt, ...) formats like string.format and appends a record to
 * the kernel log; a leading `<N>` (0..7) is the level, as KERN_EMERG..KERN_DEBUG are.
 *
 * A call with one argument and no '%' (the common case) skips formatting; otherwise the real
 * string.format, reached through the string metatable that scripts cannot replace, does
 * the work, so formats behave exactly as in Lua.
 */
import { parseLevel } from '../sandbox/klog.js';
import type { LunatikModule } from './module.js';

const PERCENT = 0x25;

export const printk: LunatikModule = {
  name: 'printk',
  init(ctx) {
    const { api } = ctx.lua.image;
    const cs = (s: string) => ctx.lua.image.cstring(s);
    ctx.function('printk', (lua, L) => {
      const n = lua.top(L);
      // Without a '%' there is nothing to format (and nothing format could reject).
      if (n > 1 || lua.checkBytes(L, 1).includes(PERCENT)) {
        api.lua_pushstring(L, cs(''));
        api.lua_getmetatable(L, -1);
        api.lua_getfield(L, -1, cs('__index'));
        api.lua_getfield(L, -1, cs('format'));
        api.lua_rotate(L, 1, 1); // format first, then the n arguments
        api.lua_settop(L, n + 1);
        api.lua_callk(L, n, 1, 0, 0);
      }
      // The formatted text (or the only argument) is now at index 1.
      const [level, text] = parseLevel(lua.checkString(L, 1));
      ctx.kernel.printk(level, text);
      return 0;
    });
  },
};
