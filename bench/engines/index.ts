// The engine registry. Adapters are imported lazily so a measuring process loads only the
// engine it measures (fengari's or wasmoon's code never warms up or slows down another).
import type { Adapter } from './types.js';

export const ENGINES = [
  'native', 'lunatik', 'lunatik-budget', 'lunatik-thread', 'wasmoon', 'fengari',
  'lunatik-baseline', 'lunatik-optimized', 'lunatik-other',
] as const;

export type EngineName = (typeof ENGINES)[number];

/**
 * What a plain run measures. The two compile-strategy variants of the default kernel
 * (wasm/compile.ts) are there to compare strategies, and lunatik-other compares with
 * another checkout (LUNATIK_OTHER): ask for them with --engines.
 */
export const DEFAULT_ENGINES: readonly EngineName[] = ['native', 'lunatik', 'lunatik-budget', 'lunatik-thread', 'wasmoon', 'fengari'];

/**
 * Environment of the measuring child. LUNATIK_WASM_COMPILE picks the image's compile
 * strategy; it is removed for every other engine, so the default kernel is measured with
 * the default strategy whatever the parent's environment says.
 */
export function childEnv(name: EngineName, env: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const { LUNATIK_WASM_COMPILE: _ignored, ...rest } = env;
  if (name === 'lunatik-baseline') return { ...rest, LUNATIK_WASM_COMPILE: 'baseline' };
  if (name === 'lunatik-optimized') return { ...rest, LUNATIK_WASM_COMPILE: 'optimized' };
  return rest;
}

export function isEngine(name: string): name is EngineName {
  return (ENGINES as readonly string[]).includes(name);
}

export async function loadAdapter(name: EngineName): Promise<Adapter> {
  switch (name) {
    case 'native':
      return (await import('./native.js')).run;
    case 'lunatik':
    case 'lunatik-baseline':
    case 'lunatik-optimized':
      return (await import('./lunatik.js')).run;
    case 'lunatik-budget':
      return (await import('./lunatik-budget.js')).run;
    case 'lunatik-other':
      return (await import('./lunatik-other.js')).run;
    case 'lunatik-thread':
      return (await import('./lunatik-thread.js')).run;
    case 'wasmoon':
      return (await import('./wasmoon.js')).run;
    case 'fengari':
      return (await import('./fengari.js')).run;
  }
}
