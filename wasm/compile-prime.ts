/*
 * Priming: with the `hinted` strategy (compile.ts), luaV_execute is compiled by TurboFan on
 * its first call, ~30 ms once per process. Left alone, that first call is the first script
 * a kernel runs, which then pays for it. Priming makes the call at image load instead: one
 * empty chunk in a throwaway instance of the image, on a state that lives for the call
 * and uses the throwaway instance's own malloc. Compiled code belongs to the Module, so
 * every later instance (every kernel, in every thread) starts with TurboFan code, and the
 * first script of a process runs at full speed from its first instruction; the first
 * Kernel.boot of the process takes the 30 ms instead.
 *
 * Nothing of the throwaway instance is kept: no kernel memory is touched, and the instance
 * is garbage once this returns. Priming is an optimization only: any failure is swallowed
 * (the first script then compiles luaV_execute itself, as without priming).
 */
import { LuaImage } from './instance.js';

// Enough for the image's own start-up and one tiny state.
const PRIME_MAX_MEMORY = 64 * 1024 * 1024;

/** Runs an empty Lua chunk in a new instance of `module`; returns its wall time in ms, or undefined if it failed. */
export function primeInterpreter(module: WebAssembly.Module): number | undefined {
  const t0 = performance.now();
  try {
    const { api } = LuaImage.instantiate({ console: () => undefined, maxMemoryBytes: PRIME_MAX_MEMORY }, module);
    const L = api.luaL_newstate();
    if (L === 0) return undefined;
    try {
      // "return\0=prime\0t\0": the chunk, its name and the text-only mode.
      const text = new TextEncoder().encode('return\0=prime\0t\0');
      const ptr = api.malloc(text.length);
      if (ptr === 0) return undefined;
      new Uint8Array(api.memory.buffer).set(text, ptr);
      if (api.luaL_loadbufferx(L, ptr, 6, ptr + 7, ptr + 14) !== 0) return undefined;
      // Calling the chunk enters luaV_execute: this is where TurboFan compiles it.
      if (api.lua_pcallk(L, 0, 0, 0, 0, 0) !== 0) return undefined;
    } finally {
      api.lua_close(L);
    }
    return performance.now() - t0;
  } catch {
    return undefined;
  }
}
