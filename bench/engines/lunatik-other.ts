// Another build of lunatik-wasm, for a before/after comparison in the same run: the checkout
// named by LUNATIK_OTHER (its dist/ built), with its own defaults. E.g. the kernel on
// wasmoon's image before the image became ours:
//   git archive a4086a6 | tar -x -C /tmp/base && (cd /tmp/base && ln -s $PWD/node_modules && npx tsc)
//   LUNATIK_OTHER=/tmp/base node dist/bench/compare/run.js --engines lunatik,lunatik-other
import { type Adapter } from './types.js';
import { kernelAdapter } from './lunatik.js';

export const run: Adapter = kernelAdapter(undefined, true);
