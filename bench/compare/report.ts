// The comparison's data model, and how raw per-run outcomes become it: medians, result
// checks against the reference (native, or the majority of engines when native is absent),
// ratios to native and the geometric mean per engine.
import type { EngineName } from '../engines/index.js';
import { LABELS, type WorkloadName } from '../workloads/index.js';
import type { Outcome } from './outcome.js';
import type { StartupRow } from './startup.js';
import { geomean, majority, median } from './stats.js';

export interface Cell {
  engine: EngineName;
  workload: WorkloadName;
  samplesMs: number[];
  createMs: number[];
  medianMs?: number;
  medianCreateMs?: number;
  /** The result most runs of this engine returned. */
  result?: string;
  /** False when this engine's runs did not all return the same result. */
  stable: boolean;
  /** False when the result differs from the workload's reference. */
  matches?: boolean;
  /** medianMs / native's medianMs. */
  ratio?: number;
  errors: string[];
}

export interface EngineSummary {
  name: EngineName;
  status: 'ok' | 'unavailable';
  reason?: string;
  /** Geometric mean of the ratios to native over the workloads that have one. */
  geomean?: number;
  ratioCount: number;
}

export interface WorkloadSummary {
  name: WorkloadName;
  label: string;
  reference?: string;
  referenceFrom?: 'native' | 'majority';
}

export interface Report {
  generated: string;
  machine: { cpu: string; cores: number; node: string; lua?: string };
  runs: number;
  quick: boolean;
  engines: EngineSummary[];
  workloads: WorkloadSummary[];
  cells: Cell[];
  startup: StartupRow[];
  notes: string[];
}

export type RawOutcomes = Map<EngineName, Map<WorkloadName, Outcome[]>>;

function cellOf(engine: EngineName, workload: WorkloadName, outcomes: Outcome[]): Cell {
  const ok = outcomes.flatMap((o) => (o.status === 'ok' ? [o] : []));
  const results = ok.map((o) => o.result);
  const cell: Cell = {
    engine,
    workload,
    samplesMs: ok.map((o) => o.ms),
    createMs: ok.map((o) => o.createMs),
    stable: new Set(results).size <= 1,
    errors: outcomes.flatMap((o) => (o.status === 'error' ? [o.error] : [])),
  };
  if (ok.length > 0) {
    cell.medianMs = median(cell.samplesMs);
    cell.medianCreateMs = median(cell.createMs);
    cell.result = majority(results);
  }
  return cell;
}

export function summarize(
  raw: RawOutcomes,
  engines: readonly EngineName[],
  workloads: readonly WorkloadName[],
  unavailable: ReadonlyMap<EngineName, string>,
): { engines: EngineSummary[]; workloads: WorkloadSummary[]; cells: Cell[]; notes: string[] } {
  const notes: string[] = [];
  const available = engines.filter((e) => !unavailable.has(e));
  const cells = available.flatMap((e) => workloads.map((w) => cellOf(e, w, raw.get(e)?.get(w) ?? [])));
  const cell = (e: EngineName, w: WorkloadName) => cells.find((c) => c.engine === e && c.workload === w);
  const hasNative = available.includes('native');
  if (!hasNative) notes.push(`native lua5.4 not measured (${unavailable.get('native') ?? 'not selected'}): no ratios, results checked against the majority`);

  const workloadSummaries = workloads.map((w): WorkloadSummary => {
    const nativeResult = hasNative ? cell('native', w)?.result : undefined;
    const reference = nativeResult ?? majority(available.flatMap((e) => cell(e, w)?.result ?? []));
    const from = nativeResult !== undefined ? 'native' : 'majority';
    const native = hasNative ? cell('native', w)?.medianMs : undefined;
    for (const e of available) {
      const c = cell(e, w)!;
      if (c.result !== undefined && reference !== undefined) c.matches = c.result === reference;
      if (c.medianMs !== undefined && native !== undefined && native > 0) c.ratio = c.medianMs / native;
      if (c.matches === false) notes.push(`MISMATCH ${e} on ${w}: got ${JSON.stringify(c.result)}, ${from} says ${JSON.stringify(reference)}`);
      if (!c.stable) notes.push(`UNSTABLE ${e} on ${w}: its runs returned different results`);
      for (const err of new Set(c.errors)) notes.push(`ERROR ${e} on ${w}: ${err.split('\n')[0]}`);
    }
    return { name: w, label: LABELS[w], ...(reference === undefined ? {} : { reference, referenceFrom: from }) };
  });

  const engineSummaries = engines.map((e): EngineSummary => {
    const reason = unavailable.get(e);
    if (reason !== undefined) return { name: e, status: 'unavailable', reason, ratioCount: 0 };
    const ratios = cells.flatMap((c) => (c.engine === e && c.ratio !== undefined ? [c.ratio] : []));
    return { name: e, status: 'ok', ratioCount: ratios.length, ...(ratios.length ? { geomean: geomean(ratios) } : {}) };
  });
  for (const e of engineSummaries) if (e.status === 'unavailable') notes.push(`${e.name} unavailable: ${e.reason}`);
  return { engines: engineSummaries, workloads: workloadSummaries, cells, notes };
}
