// The workload catalogue: names, where the Lua sources live, and the small scale for quick runs.
// Each workload reads an optional `N` (its size parameter) and defaults to the full size,
// tuned for about 0.5 s on native lua5.4 (fannkuch-redux keeps the classic n = 10).
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';

export const WORKLOADS = [
  'fib',
  'binary-trees',
  'n-body',
  'spectral-norm',
  'fannkuch-redux',
  'string-building',
  'table-insert-remove',
] as const;

export type WorkloadName = (typeof WORKLOADS)[number];

/** Human labels for tables and charts. */
export const LABELS: Record<WorkloadName, string> = {
  fib: 'fib(32) x5',
  'binary-trees': 'binary-trees',
  'n-body': 'n-body',
  'spectral-norm': 'spectral-norm',
  'fannkuch-redux': 'fannkuch-redux(10)',
  'string-building': 'string building',
  'table-insert-remove': 'table insert/remove',
};

/** Tiny sizes: enough to exercise every code path in milliseconds (CI, tests). */
export const QUICK_SCALE: Record<WorkloadName, number> = {
  fib: 18,
  'binary-trees': 6,
  'n-body': 1000,
  'spectral-norm': 40,
  'fannkuch-redux': 7,
  'string-building': 2000,
  'table-insert-remove': 1,
};

// Sources stay in bench/workloads/ (tsc does not copy .lua): from dist/bench/workloads/ go
// back up to the repository root.
export const WORKLOAD_DIR = fileURLToPath(new URL('../../../bench/workloads/', import.meta.url));

export function isWorkload(name: string): name is WorkloadName {
  return (WORKLOADS as readonly string[]).includes(name);
}

export function workloadPath(name: WorkloadName): string {
  return join(WORKLOAD_DIR, `${name}.lua`);
}

/**
 * The Lua source of a workload, with `N` set when a scale is given. The prefix is a `local`
 * on the first line, so no global is written and error line numbers stay those of the file.
 */
export function workloadSource(name: WorkloadName, scale?: number): string {
  const source = readFileSync(workloadPath(name), 'utf8');
  if (scale === undefined) return source;
  if (!Number.isSafeInteger(scale) || scale <= 0) throw new RangeError(`bad scale ${scale}`);
  return `local N = ${scale}; ${source}`;
}
