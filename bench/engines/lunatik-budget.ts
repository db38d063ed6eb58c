// lunatik-wasm with an instruction budget: the count hook is on for the whole run (Lua 5.4
// pays for any count hook on every instruction), with a budget no workload reaches.
import { type Adapter } from './types.js';
import { kernelAdapter } from './lunatik.js';

export const run: Adapter = kernelAdapter({ limits: { instructions: 1e12 } });
