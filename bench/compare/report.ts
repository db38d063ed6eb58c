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
  /** CPU time of each run, when the engine reports it. */
  cpuMs: number[];
  /** Boot of another kernel after the first shut down, when the engine reports it. */
  createAgainMs: number[];
  /** Boot of a second kernel beside the first, when the engine reports it. */
  createBesideMs: number[];
  medianMs?: number;
  medianCreateMs?: number;
  medianCpuMs?: number;
  medianCreateAgainMs?: number;
  medianCreateBesideMs?: number;
  /** The result most runs of this engine returned. */
  result?: string;
  /** The Wasm image's compile strategy, for the lunatik engines that report it. */
  compile?: string;
  /** False when this engine's runs did not all return the same result. */
  stable: boolean;
  /** False when the result differs from the workload's reference. */
  matches?: boolean;
  /** medianMs / native's medianMs. */
  ratio?: number;
  /** medianCpuMs / native's medianCpuMs. */
  cpuRatio?: number;
  errors: string[];
}

export interface EngineSummary {
  name: EngineName;
  status: 'ok' | 'unavailable';
  reason?: string;
  /** Geometric mean of the ratios to native over the workloads that have one. */
  geomean?: number;
  /** The same over CPU-time ratios. */
  cpuGeomean?: number;
  /** The largest ratio to native, and on which workload. */
  worst?: { workload: WorkloadName; ratio: number };
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
  /** Runs behind each start-up median. */
  startupRuns?: number;
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
    cpuMs: ok.flatMap((o) => (o.cpuMs === undefined ? [] : [o.cpuMs])),
    createAgainMs: ok.flatMap((o) => (o.createAgainMs === undefined ? [] : [o.createAgainMs])),
    createBesideMs: ok.flatMap((o) => (o.createBesideMs === undefined ? [] : [o.createBesideMs])),
    stable: new Set(results).size <= 1,
    errors: outcomes.flatMap((o) => (o.status === 'error' ? [o.error] : [])),
  };
  if (ok.length > 0) {
    cell.medianMs = median(cell.samplesMs);
    cell.medianCreateMs = median(cell.createMs);
    if (cell.cpuMs.length > 0) cell.medianCpuMs = median(cell.cpuMs);
    if (cell.createAgainMs.length > 0) cell.medianCreateAgainMs = median(cell.createAgainMs);
    if (cell.createBesideMs.length > 0) cell.medianCreateBesideMs = median(cell.createBesideMs);
    cell.result = majority(results);
    const compile = majority(ok.flatMap((o) => (o.compile === undefined ? [] : [o.compile])));
    if (compile !== undefined) cell.compile = compile;
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
    const nativeCpu = hasNative ? cell('native', w)?.medianCpuMs : undefined;
    for (const e of available) {
      const c = cell(e, w)!;
      if (c.result !== undefined && reference !== undefined) c.matches = c.result === reference;
      if (c.medianMs !== undefined && native !== undefined && native > 0) c.ratio = c.medianMs / native;
      if (c.medianCpuMs !== undefined && nativeCpu !== undefined && nativeCpu > 0) c.cpuRatio = c.medianCpuMs / nativeCpu;
      if (c.matches === false) notes.push(`MISMATCH ${e} on ${w}: got ${JSON.stringify(c.result)}, ${from} says ${JSON.stringify(reference)}`);
      if (!c.stable) notes.push(`UNSTABLE ${e} on ${w}: its runs returned different results`);
      for (const err of new Set(c.errors)) notes.push(`ERROR ${e} on ${w}: ${err.split('\n')[0]}`);
    }
    return { name: w, label: LABELS[w], ...(reference === undefined ? {} : { reference, referenceFrom: from }) };
  });

  const engineSummaries = engines.map((e): EngineSummary => {
    const reason = unavailable.get(e);
    if (reason !== undefined) return { name: e, status: 'unavailable', reason, ratioCount: 0 };
    const mine = cells.filter((c) => c.engine === e);
    const ratios = mine.flatMap((c) => (c.ratio !== undefined ? [c.ratio] : []));
    const cpuRatios = mine.flatMap((c) => (c.cpuRatio !== undefined ? [c.cpuRatio] : []));
    const worst = mine.reduce<Cell | undefined>((w, c) => (c.ratio !== undefined && (w === undefined || c.ratio > w.ratio!) ? c : w), undefined);
    return {
      name: e,
      status: 'ok',
      ratioCount: ratios.length,
      ...(ratios.length ? { geomean: geomean(ratios) } : {}),
      // Only comparable when every workload has a CPU ratio.
      ...(cpuRatios.length && cpuRatios.length === ratios.length ? { cpuGeomean: geomean(cpuRatios) } : {}),
      ...(worst ? { worst: { workload: worst.workload, ratio: worst.ratio! } } : {}),
    };
  });
  for (const e of engineSummaries) if (e.status === 'unavailable') notes.push(`${e.name} unavailable: ${e.reason}`);
  for (const e of available) {
    const strategies = [...new Set(cells.flatMap((c) => (c.engine === e && c.compile !== undefined ? [c.compile] : [])))];
    if (strategies.length) notes.push(`${e}: Wasm image compiled with the ${strategies.join(' / ')} strategy (wasm/compile.ts)`);
  }
  return { engines: engineSummaries, workloads: workloadSummaries, cells, notes };
}

/** One of issue 6's goals, checked against a report. */
export interface Goal {
  what: string;
  target: string;
  /** The measured value, formatted; undefined when the report cannot tell. */
  value?: string;
  ok?: boolean;
}

const x2 = (v: number) => `${v.toFixed(2)}x`;

/** Issue 6's goals for the default kernel (`lunatik`), as far as this report measured them. */
export function goals(r: Report): Goal[] {
  const engine = (name: EngineName) => r.engines.find((e) => e.name === name && e.status === 'ok');
  const lunatik = engine('lunatik');
  const out: Goal[] = [];
  const g = lunatik?.geomean;
  out.push({
    what: 'default kernel, first run in a fresh process: geometric mean of the ratios to native',
    target: '≤ 1.50x',
    ...(g === undefined ? {} : { value: `${x2(g)}${lunatik?.cpuGeomean === undefined ? '' : ` (CPU time: ${x2(lunatik.cpuGeomean)})`}`, ok: g <= 1.5 }),
  });
  const worst = lunatik?.worst;
  const cpuWorst = r.cells
    .filter((c) => c.engine === 'lunatik' && c.cpuRatio !== undefined)
    .reduce<Cell | undefined>((w, c) => (w === undefined || c.cpuRatio! > w.cpuRatio! ? c : w), undefined);
  out.push({
    what: 'default kernel: slowest workload',
    target: '≤ 2.00x',
    ...(worst === undefined ? {} : {
      value: `${x2(worst.ratio)}, ${LABELS[worst.workload]}` +
        `${cpuWorst === undefined ? '' : ` (CPU time: ${x2(cpuWorst.cpuRatio!)}, ${LABELS[cpuWorst.workload]})`}`,
      ok: worst.ratio <= 2,
    }),
  });
  for (const [other, factor] of [['wasmoon', 2], ['fengari', 10]] as const) {
    const o = engine(other)?.geomean;
    out.push({
      what: `faster than ${other} (its geometric mean over the default kernel's)`,
      target: `≥ ${factor}x`,
      ...(o === undefined || g === undefined ? {} : { value: x2(o / g), ok: o / g >= factor }),
    });
  }
  const bootGoal = (what: string, pick: (c: Cell) => number | undefined) => {
    const xs = r.cells.filter((c) => c.engine === 'lunatik').flatMap((c) => (pick(c) === undefined ? [] : [pick(c)!]));
    out.push({ what, target: '≤ 3 ms', ...(xs.length ? { value: `${median(xs).toFixed(2)} ms`, ok: median(xs) <= 3 } : {}) });
  };
  bootGoal('Kernel.boot after the first kernel of the process shut down', (c) => c.medianCreateAgainMs);
  bootGoal('Kernel.boot of a second kernel while the first is up', (c) => c.medianCreateBesideMs);
  const cli = r.startup.find((s) => s.name === 'lunatik')?.medianMs;
  out.push({
    what: 'CLI process answering `return 1`',
    target: '≤ 150 ms',
    ...(cli === undefined ? {} : { value: `${cli.toFixed(0)} ms`, ok: cli <= 150 }),
  });
  return out;
}
