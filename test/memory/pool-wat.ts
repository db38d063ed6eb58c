/*
 * Assembles wasm/pool-fastpath.wat and wasm/pool-copy.wat with wabt (a devDependency, used
 * only here and by the buffer module's twin of this script) and renders
 * wasm/pool-fastpath.bytes.ts from them.
 *
 * The bytes are committed, not assembled at build or run time: the build stays `tsc`
 * alone, the published package needs no assembler, the runtime loads exactly what
 * wat2wasm produced (nothing transcribed by hand), and pool-fastpath.test.ts fails if
 * the .wat and the committed bytes ever disagree.
 *
 *   node dist/test/memory/pool-wat.js           check that the committed bytes are current
 *   node dist/test/memory/pool-wat.js --write   regenerate wasm/pool-fastpath.bytes.ts
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import wabt from 'wabt';

/** Source tree paths (this file runs from dist/test/memory/). */
export const WAT_PATH = fileURLToPath(new URL('../../../wasm/pool-fastpath.wat', import.meta.url));
export const COPY_WAT_PATH = fileURLToPath(new URL('../../../wasm/pool-copy.wat', import.meta.url));
export const BYTES_PATH = fileURLToPath(new URL('../../../wasm/pool-fastpath.bytes.ts', import.meta.url));

/** The binary wat2wasm makes of a .wat (canonical LEBs, no names section). */
export async function assemble(watPath: string = WAT_PATH): Promise<Uint8Array> {
  const api = await wabt();
  const module = api.parseWat(watPath.replace(/.*[\\/]/, ''), readFileSync(watPath, 'utf8'), { bulk_memory: true });
  try {
    module.resolveNames();
    module.validate();
    return module.toBinary({ canonicalize_lebs: true, relocatable: false, write_debug_names: false, log: false }).buffer.slice();
  } finally {
    module.destroy();
  }
}

function byteLines(bytes: Uint8Array): string[] {
  const lines: string[] = [];
  for (let i = 0; i < bytes.length; i += 16) {
    lines.push('  ' + [...bytes.subarray(i, i + 16)].map((b) => `0x${b.toString(16).padStart(2, '0')},`).join(' '));
  }
  return lines;
}

/** The TypeScript source of wasm/pool-fastpath.bytes.ts for these bytes. */
export function renderBytesModule(fastpath: Uint8Array, copy: Uint8Array): string {
  return [
    '// Generated from wasm/pool-fastpath.wat and wasm/pool-copy.wat by test/memory/pool-wat.ts (wabt\'s wat2wasm): do not edit.',
    '// Regenerate: npx tsc -p tsconfig.json && node dist/test/memory/pool-wat.js --write && npx tsc -p tsconfig.json',
    '',
    `// wasm/pool-fastpath.wat, ${fastpath.length} bytes.`,
    'export const POOL_FASTPATH_WASM = new Uint8Array([',
    ...byteLines(fastpath),
    ']);',
    '',
    `// wasm/pool-copy.wat, ${copy.length} bytes.`,
    'export const POOL_COPY_WASM = new Uint8Array([',
    ...byteLines(copy),
    ']);',
    '',
  ].join('\n');
}

/** What wasm/pool-fastpath.bytes.ts must hold today. */
export async function renderCurrent(): Promise<string> {
  return renderBytesModule(await assemble(WAT_PATH), await assemble(COPY_WAT_PATH));
}

async function main(): Promise<void> {
  const rendered = await renderCurrent();
  if (process.argv.includes('--write')) {
    writeFileSync(BYTES_PATH, rendered);
    process.stdout.write(`wrote ${BYTES_PATH}\n`);
    return;
  }
  let current = '';
  try {
    current = readFileSync(BYTES_PATH, 'utf8');
  } catch {
    // missing: reported as stale below
  }
  if (current === rendered) {
    process.stdout.write('wasm/pool-fastpath.bytes.ts is current\n');
  } else {
    process.stdout.write('wasm/pool-fastpath.bytes.ts is stale: run with --write\n');
    process.exitCode = 1;
  }
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) await main();
