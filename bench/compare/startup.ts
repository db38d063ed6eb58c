// Process start-up: the CLI answering `return 1` against lua5.4 doing the same, wall time of
// the whole process, median of several runs. `node -e 0` is there to show Node's own share.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { LUA_BINARY, nativeAvailable } from '../engines/native.js';
import { median } from './stats.js';

export interface StartupRow {
  name: string;
  command: string;
  medianMs?: number;
  note?: string;
}

const CLI = fileURLToPath(new URL('../../src/cli/lunatik.js', import.meta.url));

function time(cmd: string, args: string[], runs: number): { ms?: number; note?: string } {
  const samples: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    const r = spawnSync(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], timeout: 60_000 });
    const ms = performance.now() - t0;
    if (r.error || r.status !== 0) {
      const why = r.error?.message ?? `exit ${r.status}: ${r.stderr.toString().trim().slice(0, 200)}`;
      return { note: `failed: ${why}` };
    }
    samples.push(ms);
  }
  return { ms: median(samples) };
}

function row(name: string, command: string, cmd: string, args: string[], runs: number, skip?: string): StartupRow {
  if (skip) return { name, command, note: skip };
  const { ms, note } = time(cmd, args, runs);
  return ms === undefined ? { name, command, note: note ?? 'failed' } : { name, command, medianMs: ms };
}

export function measureStartup(runs = 10): StartupRow[] {
  return [
    row('lunatik', 'node dist/src/cli/lunatik.js -e "return 1"', process.execPath, [CLI, '-e', 'return 1'], runs,
      existsSync(CLI) ? undefined : 'skipped: dist/src/cli/lunatik.js does not exist yet'),
    row('lua5.4', `${LUA_BINARY} -e "return 1"`, LUA_BINARY, ['-e', 'return 1'], runs,
      nativeAvailable() ? undefined : `skipped: ${LUA_BINARY} is not installed`),
    row('node', 'node -e 0', process.execPath, ['-e', '0'], runs),
  ];
}
