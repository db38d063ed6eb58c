// The engine registry. Adapters are imported lazily so a measuring process loads only the
// engine it measures (fengari's or wasmoon's code never warms up or slows down another).
import type { Adapter } from './types.js';

export const ENGINES = ['native', 'lunatik', 'lunatik-budget', 'lunatik-thread', 'wasmoon', 'fengari'] as const;

export type EngineName = (typeof ENGINES)[number];

export function isEngine(name: string): name is EngineName {
  return (ENGINES as readonly string[]).includes(name);
}

export async function loadAdapter(name: EngineName): Promise<Adapter> {
  switch (name) {
    case 'native':
      return (await import('./native.js')).run;
    case 'lunatik':
      return (await import('./lunatik.js')).run;
    case 'lunatik-budget':
      return (await import('./lunatik-budget.js')).run;
    case 'lunatik-thread':
      return (await import('./lunatik-thread.js')).run;
    case 'wasmoon':
      return (await import('./wasmoon.js')).run;
    case 'fengari':
      return (await import('./fengari.js')).run;
  }
}
