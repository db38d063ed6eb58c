// One measurement in a fresh process: node dist/bench/compare/child.js <engine> <workload> [scale]
// Prints one JSON line (an Outcome) on stdout. A fresh process per run means every engine is
// measured on its first run, as a service that starts and runs a script would see it.
import { isEngine, loadAdapter } from '../engines/index.js';
import { isWorkload, workloadSource } from '../workloads/index.js';
import { type Outcome, settle } from './outcome.js';

async function main(argv: string[]): Promise<Outcome> {
  const [engine = '', workload = '', scaleArg] = argv;
  if (!isEngine(engine)) return { status: 'error', error: `unknown engine ${engine}` };
  if (!isWorkload(workload)) return { status: 'error', error: `unknown workload ${workload}` };
  const scale = scaleArg === undefined ? undefined : Number(scaleArg);
  return settle(async () => (await loadAdapter(engine))(workloadSource(workload, scale)));
}

const outcome = await main(process.argv.slice(2));
// Exit explicitly once written: an engine's leftover handles must not keep the process alive.
process.stdout.write(JSON.stringify(outcome) + '\n', () => process.exit(0));
