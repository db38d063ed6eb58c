// wasmoon's own engine (the Lua 5.4 Wasm image we also use, driven by wasmoon's JS glue).
import { LuaFactory } from 'wasmoon';
import { type Adapter, ScriptError, cpuSince } from './types.js';

export const run: Adapter = async (source) => {
  const t0 = performance.now();
  const engine = await new LuaFactory().createEngine();
  const createMs = performance.now() - t0;
  try {
    const c1 = process.cpuUsage();
    const t1 = performance.now();
    let value: unknown;
    try {
      // doString without a timeout installs no hook: the VM runs at full speed.
      value = await engine.doString(source);
    } catch (e) {
      throw new ScriptError(e instanceof Error ? e.message : String(e));
    }
    const ms = performance.now() - t1;
    return { result: String(value), ms, cpuMs: cpuSince(c1), createMs };
  } finally {
    engine.global.close();
  }
};
