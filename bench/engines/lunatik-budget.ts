// lunatik-wasm with an instruction budget no workload reaches and a soft time limit: the
// image's fuel is handed out in slices of about a million units, with a clock check at each
// (src/sandbox/budget.ts), the most the metering ever does per instruction.
import { type Adapter } from './types.js';
import { kernelAdapter } from './lunatik.js';

export const run: Adapter = kernelAdapter({ limits: { instructions: 1e12, timeMs: 1e9 } });
