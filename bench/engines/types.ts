// Shared shapes for the engine adapters of the comparison benchmark.

/** One run of one workload on one engine. Times in milliseconds. */
export interface Measurement {
  /** The workload's return value as a string: compared across engines. */
  result: string;
  /** Wall time of the script run only (load + call), excluding engine creation. */
  ms: number;
  /** Time to create the engine (instantiate Wasm, boot the kernel, start the process...). */
  createMs: number;
  /**
   * CPU time of the script run (the whole process's, background compiler and GC threads
   * included). Less disturbed than wall time when other work shares the machine.
   */
  cpuMs?: number;
  /** Kernels only: boot of another kernel in the process after the first was shut down. */
  createAgainMs?: number;
  /** Kernels only: boot of a second kernel while the first is still up. */
  createBesideMs?: number;
  /** lunatik only: the compile strategy the Wasm image got (wasm/compile.ts). */
  compile?: string;
}

/** CPU time of the whole process since `since` (a process.cpuUsage() reading), in ms. */
export function cpuSince(since: NodeJS.CpuUsage): number {
  const d = process.cpuUsage(since);
  return (d.user + d.system) / 1000;
}

/** Runs a Lua chunk (already scaled) and returns its result and timings. */
export type Adapter = (source: string) => Promise<Measurement>;

/** Thrown when an engine cannot run here at all (missing binary, API not built yet). */
export class Unavailable extends Error {
  constructor(reason: string) {
    super(reason);
    this.name = 'Unavailable';
  }
}

/** Thrown when the engine ran the workload and the script failed. */
export class ScriptError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ScriptError';
  }
}
