/*
 * The command line's option table. Each option is one entry: its name, its argument (if
 * it takes one), its help line, and what it does: change Kernel.boot's options (`boot`)
 * or print something after the chunks have run (`report`). Options without either
 * (`-e`, `-i`, `-W`, `-h`, `-v`) are read by the runner itself.
 *
 * Adding an option is one line here.
 */
import { formatRecord } from '../sandbox/klog.js';
import type { Kernel } from '../sandbox/kernel.js';
import type { BootOptions } from '../sandbox/options.js';

export interface CliOption {
  /** `--name`; a single letter is a lua-style short option (`-e`). */
  readonly name: string;
  /** One-letter alias of a long option (`-v` for `--version`). */
  readonly short?: string;
  /** Placeholder for the option's argument in the usage text; an option without one is a flag. */
  readonly arg?: string;
  /** May be given several times; the values are kept in command-line order. */
  readonly multiple?: boolean;
  readonly help: string;
  /** Applies the option to the kernel's boot options; `value` is '' for a flag. Throws UsageError on a bad value. */
  readonly boot?: (options: BootOptions, value: string) => void;
  /** Lines to print on stdout once the chunks (and the REPL) have finished, in table order. */
  readonly report?: (kernel: Kernel) => string[];
}

/** A mistake on the command line: the message and the usage on stderr, exit status 1 (as lua). */
export class UsageError extends Error {
  override name = 'UsageError';
}

export const OPTIONS: readonly CliOption[] = [
  { name: 'e', arg: 'stat', multiple: true, help: "execute string 'stat' (several -e run in order on the same kernel)" },
  { name: 'i', help: "enter interactive mode after executing 'script'" },
  { name: 'W', help: 'turn warnings on (warn() to stderr; the kernel log has them anyway)' },
  { name: 'isolate', help: 'give every chunk a fresh Lua state', boot: (o) => { o.isolate = true; } },
  { name: 'memory-limit', arg: 'bytes', help: 'memory budget of the Lua state (suffix k, m or g for KiB, MiB, GiB)', boot: (o, v) => { o.memory = { ...o.memory, limit: byteSize(v, 'memory-limit') }; } },
  { name: 'instructions', arg: 'n', help: 'instruction budget of each chunk (exceeding it: ETIME; default 100000000; 0 or inf: none)', boot: (o, v) => { o.limits = { ...o.limits, instructions: budget(v, 'instructions') }; } },
  { name: 'time-limit', arg: 'ms', help: 'soft wall-clock limit of each chunk, ms >= 1, checked about every million instructions', boot: (o, v) => { o.limits = { ...o.limits, timeMs: positiveInteger(v, 'time-limit') }; } },
  { name: 'dmesg', help: 'print the kernel log after running', report: (k) => k.dmesg().map(formatRecord) },
  { name: 'meminfo', help: 'print the memory pool\'s /proc/meminfo after running', report: (k) => lines(k.proc('meminfo')) },
  { name: 'buddyinfo', help: 'print the buddy allocator\'s /proc/buddyinfo after running', report: (k) => lines(k.proc('buddyinfo')) },
  { name: 'slabinfo', help: 'print the size-class caches\' /proc/slabinfo after running', report: (k) => lines(k.proc('slabinfo')) },
  { name: 'version', short: 'v', help: 'show version information' },
  { name: 'help', short: 'h', help: 'show this help' },
];

function lines(text: string): string[] {
  return text.replace(/\n$/, '').split('\n');
}

const UNITS: Record<string, number> = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 };

/** `65536`, `64k`, `16M`, `1g` as a byte count; throws UsageError otherwise. */
export function byteSize(value: string, option: string): number {
  const match = /^(\d+)([kmg]?)(?:i?b)?$/i.exec(value.trim());
  const bytes = match === null ? NaN : Number(match[1]) * UNITS[match[2]!.toLowerCase()]!;
  if (!Number.isSafeInteger(bytes)) throw new UsageError(`--${option} expects a byte count such as 65536, 64k or 16m, got '${value}'`);
  return bytes;
}

/** An instruction budget: an integer of at least 1, or 0 / inf for none. */
function budget(value: string, option: string): number {
  const text = value.trim();
  return text === 'inf' || text === '0' ? Infinity : positiveInteger(value, option);
}

/** An integer option value of at least 1 (what the kernel's limits accept); throws UsageError otherwise. */
export function positiveInteger(value: string, option: string): number {
  const n = /^\d+$/.test(value.trim()) ? Number(value) : NaN;
  if (!Number.isSafeInteger(n) || n < 1) throw new UsageError(`--${option} expects an integer of at least 1, got '${value}'`);
  return n;
}
