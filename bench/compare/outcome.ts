// The one-line JSON a measuring child prints, and how an adapter's outcome maps onto it.
import { type Measurement, ScriptError, Unavailable } from '../engines/types.js';

export type Outcome =
  | ({ status: 'ok' } & Measurement)
  | { status: 'unavailable'; reason: string }
  | { status: 'error'; error: string };

export async function settle(measure: () => Promise<Measurement>): Promise<Outcome> {
  try {
    return { status: 'ok', ...(await measure()) };
  } catch (e) {
    if (e instanceof Unavailable) return { status: 'unavailable', reason: e.message };
    if (e instanceof ScriptError) return { status: 'error', error: e.message };
    return { status: 'error', error: e instanceof Error ? (e.stack ?? e.message) : String(e) };
  }
}

/** Parses the child's last stdout line; anything else is an error outcome. */
export function parseOutcome(stdout: string, stderr: string, code: number | null): Outcome {
  const line = stdout.trim().split('\n').pop() ?? '';
  try {
    const o = JSON.parse(line) as Outcome;
    if (o && typeof o === 'object' && typeof o.status === 'string') return o;
  } catch {
    // fall through: the child crashed before printing its outcome
  }
  return { status: 'error', error: `child exited with ${code}: ${(stderr || stdout).trim().slice(-500)}` };
}
