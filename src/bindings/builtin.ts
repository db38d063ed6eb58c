/*
 * lunatik-ng's modules, as the kernel loads them by default (lunatik_buffer.ko,
 * lunatik_crypto.ko, lunatik_printk.ko, lunatik_inspect.ko), in dependency order.
 */
import type { LunatikModule } from './module.js';
import { buffer } from './buffer.js';
import { crypto } from './crypto.js';
import { inspect } from './inspect.js';
import { printk } from './printk.js';

export const builtinModules: readonly LunatikModule[] = [buffer, crypto, printk, inspect];
