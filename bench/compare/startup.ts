// Process start-up: the real CLI (dist/src/cli/lunatik.js) answering `return 1` against
// lua5.4 doing the same, wall time of the whole process, median of several runs taken in
// turns so a busy moment of the machine spreads over all of them. `node -e 0` shows Node's
// own share; the CLI with the `baseline` compile strategy shows what the default strategy
// (TurboFan for luaV_execute at its first call, wasm/compile.ts) costs at start-up.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { childEnv } from '../engines/index.js';
import { LUA_BINARY, nativeAvailable } from '../engines/native.js';
import { median } from './stats.js';

export interface StartupRow {
  name: string;
  command: string;
  medianMs?: number;
  note?: string;
}

export const CLI = fileURLToPath(new URL('../../src/cli/lunatik.js', import.meta.url));

interface Probe {
  name: string;
  command: string;
  cmd: string;
  args: string[];
  env?: NodeJS.ProcessEnv;
  /** What stdout must be (trimmed), when it is checked. */
  expect?: string;
  skip?: string;
}

function probes(): Probe[] {
  const noCli = existsSync(CLI) ? undefined : 'skipped: dist/src/cli/lunatik.js does not exist';
  return [
    {
      name: 'lunatik', command: 'node dist/src/cli/lunatik.js -e "return 1"',
      cmd: process.execPath, args: [CLI, '-e', 'return 1'], env: childEnv('lunatik'), expect: '1', ...(noCli ? { skip: noCli } : {}),
    },
    {
      name: 'lunatik-baseline', command: 'LUNATIK_WASM_COMPILE=baseline node dist/src/cli/lunatik.js -e "return 1"',
      cmd: process.execPath, args: [CLI, '-e', 'return 1'], env: childEnv('lunatik-baseline'), expect: '1', ...(noCli ? { skip: noCli } : {}),
    },
    {
      name: 'lua5.4', command: `${LUA_BINARY} -e "return 1"`, cmd: LUA_BINARY, args: ['-e', 'return 1'],
      ...(nativeAvailable() ? {} : { skip: `skipped: ${LUA_BINARY} is not installed` }),
    },
    { name: 'node', command: 'node -e 0', cmd: process.execPath, args: ['-e', '0'] },
  ];
}

/** One timed run; a string is why it failed. */
function once(p: Probe): number | string {
  const t0 = performance.now();
  const r = spawnSync(p.cmd, p.args, { stdio: ['ignore', 'pipe', 'pipe'], timeout: 60_000, ...(p.env ? { env: p.env } : {}) });
  const ms = performance.now() - t0;
  if (r.error || r.status !== 0) {
    return `failed: ${r.error?.message ?? `exit ${r.status}: ${r.stderr.toString().trim().slice(0, 200)}`}`;
  }
  const out = r.stdout.toString().trim();
  if (p.expect !== undefined && out !== p.expect) return `failed: printed ${JSON.stringify(out.slice(0, 80))}, not ${JSON.stringify(p.expect)}`;
  return ms;
}

export function measureStartup(runs = 10): StartupRow[] {
  const list = probes();
  const samples = new Map<string, number[]>(list.map((p) => [p.name, []]));
  const failed = new Map<string, string>();
  for (let i = 0; i < runs; i++) {
    for (let k = 0; k < list.length; k++) {
      const p = list[(k + i) % list.length]!;
      if (p.skip !== undefined || failed.has(p.name)) continue;
      const r = once(p);
      if (typeof r === 'string') failed.set(p.name, r);
      else samples.get(p.name)!.push(r);
    }
  }
  return list.map((p) => {
    const why = p.skip ?? failed.get(p.name);
    if (why !== undefined) return { name: p.name, command: p.command, note: why };
    return { name: p.name, command: p.command, medianMs: median(samples.get(p.name)!) };
  });
}
