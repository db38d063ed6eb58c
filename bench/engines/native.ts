// Native Lua 5.4 (Debian's lua5.4): one process per run. The chunk is timed inside Lua with
// os.clock (CPU time of a single-threaded process, close to its wall time), so process
// start-up is not counted as run time; it is reported as createMs instead.
import { spawn, spawnSync } from 'node:child_process';
import { type Adapter, ScriptError, Unavailable } from './types.js';

export const LUA_BINARY = 'lua5.4';

// Reads the workload from stdin, times load + call like the other adapters' doString.
const WRAPPER = `
local src = io.read("a")
local t0 = os.clock()
local chunk, err = load(src, "=workload", "t")
local ok, res = false, err
if chunk then ok, res = pcall(chunk) end
local ms = (os.clock() - t0) * 1000
io.write(ok and "ok" or "error", "\\n", string.format("%.3f", ms), "\\n", tostring(res))
`;

/** Whether lua5.4 can be started here. */
export function nativeAvailable(): boolean {
  const r = spawnSync(LUA_BINARY, ['-v'], { stdio: 'ignore' });
  return r.error === undefined && r.status === 0;
}

export const run: Adapter = (source) =>
  new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn(LUA_BINARY, ['-e', WRAPPER], { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
    child.on('error', (e: NodeJS.ErrnoException) => {
      reject(e.code === 'ENOENT' ? new Unavailable(`${LUA_BINARY} is not installed`) : e);
    });
    child.on('close', (code) => {
      const wall = performance.now() - t0;
      const [status, msText, ...rest] = out.split('\n');
      const result = rest.join('\n');
      const ms = Number(msText);
      if (code !== 0 || !Number.isFinite(ms)) {
        reject(new ScriptError(`${LUA_BINARY} exited with ${code}: ${err.trim() || out.trim()}`));
      } else if (status !== 'ok') {
        reject(new ScriptError(result));
      } else {
        resolve({ result, ms, cpuMs: ms, createMs: Math.max(0, wall - ms) });
      }
    });
    child.stdin.end(source);
  });
