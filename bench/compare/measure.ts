// Runs one (engine, workload) measurement in a fresh process and returns its outcome.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { type EngineName, childEnv } from '../engines/index.js';
import { run as runNative } from '../engines/native.js';
import { type WorkloadName, workloadSource } from '../workloads/index.js';
import { type Outcome, parseOutcome, settle } from './outcome.js';

const CHILD = fileURLToPath(new URL('./child.js', import.meta.url));

// Generous: fengari takes tens of seconds on the full-size workloads.
const TIMEOUT_MS = 10 * 60 * 1000;

export function measure(engine: EngineName, workload: WorkloadName, scale?: number): Promise<Outcome> {
  // Native Lua already runs in its own fresh lua5.4 process: no node process in between.
  if (engine === 'native') return settle(() => runNative(workloadSource(workload, scale)));
  const args = [CHILD, engine, workload, ...(scale === undefined ? [] : [String(scale)])];
  return new Promise((resolve) => {
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'], timeout: TIMEOUT_MS, env: childEnv(engine) });
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
    child.on('error', (e) => resolve({ status: 'error', error: e.message }));
    child.on('close', (code) => resolve(parseOutcome(out, err, code)));
  });
}
