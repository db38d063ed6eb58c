/*
 * Text renderers in the layouts of Linux's /proc files, so the usual eyes
 * and scripts (awk on columns, grep on names) work on them unchanged:
 *  - meminfo:   "%-16s%8lu kB" as fs/proc/meminfo.c's show_val_kb; counts
 *               without a unit as the HugePages_* lines;
 *  - buddyinfo: "Node %d, zone %8s " then "%6lu " per order (mm/vmstat.c);
 *  - slabinfo:  version 2.1 header and columns of mm/slab_common.c, with
 *               tunables all zero as SLUB prints them.
 * Byte amounts are shown in kB rounded up, so a live byte never reads 0 kB.
 */

import type { MemInfo, SlabInfo } from './pool.js';

const kb = (bytes: number): number => Math.ceil(bytes / 1024);
const line = (name: string, value: number, unit = ' kB'): string => `${(name + ':').padEnd(16)}${String(value).padStart(8)}${unit}`;
const pad = (v: number, w: number): string => String(v).padStart(w);

export function formatMeminfo(m: MemInfo, pageSize: number, slabPages: number, largePages: number): string {
  return (
    [
      line('MemTotal', kb(m.totalPages * pageSize)),
      line('MemFree', kb(m.freePages * pageSize)),
      line('Used', kb(m.usedBytes)),
      line('Peak', kb(m.peakBytes)),
      line('Slab', kb(slabPages * pageSize)),
      line('Large', kb(largePages * pageSize)),
      line('FailedAllocs', m.failedAllocations, ''),
      line('Strings', kb(m.byType.strings)),
      line('Tables', kb(m.byType.tables)),
      line('Closures', kb(m.byType.closures)),
      line('Userdata', kb(m.byType.userdata)),
      line('Threads', kb(m.byType.threads)),
      line('Others', kb(m.byType.others)),
    ].join('\n') + '\n'
  );
}

export function formatBuddyinfo(freeBlocks: readonly number[], zone = 'Lua'): string {
  return `Node 0, zone ${zone.padStart(8)} ${freeBlocks.map((n) => `${pad(n, 6)} `).join('')}\n`;
}

export function formatSlabinfo(caches: readonly SlabInfo[]): string {
  const rows = caches.map(
    (c) =>
      `${c.name.padEnd(17)} ${pad(c.activeObjects, 6)} ${pad(c.totalObjects, 6)} ${pad(c.objectSize, 6)} ${pad(c.objectsPerSlab, 4)} ${pad(c.pagesPerSlab, 4)}` +
      ` : tunables ${pad(0, 4)} ${pad(0, 4)} ${pad(0, 4)}` +
      ` : slabdata ${pad(c.activeSlabs, 6)} ${pad(c.slabs, 6)} ${pad(0, 6)}`,
  );
  return (
    [
      'slabinfo - version: 2.1',
      '# name            <active_objs> <num_objs> <objsize> <objperslab> <pagesperslab> : tunables <limit> <batchcount> <sharedfactor> : slabdata <active_slabs> <num_slabs> <sharedavail>',
      ...rows,
    ].join('\n') + '\n'
  );
}
