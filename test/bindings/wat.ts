/*
 * Assembles wasm/buffer-access.wat with wabt (a devDependency, used here only) and renders
 * wasm/buffer-access.bytes.ts from it.
 *
 * Why the bytes are committed instead of assembled at build or run time: the build stays
 * `tsc` alone (`npm ci` needs no pre-step and the published package needs no assembler),
 * the runtime loads exactly what wat2wasm produced (nothing transcribed by hand), and
 * buffer-access-wat.test.ts fails if the .wat and the committed bytes ever disagree.
 *
 *   node dist/test/bindings/wat.js           check that the committed bytes are current
 *   node dist/test/bindings/wat.js --write   regenerate wasm/buffer-access.bytes.ts
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import wabt from 'wabt';

/** Source tree paths (this file runs from dist/test/bindings/). */
export const WAT_PATH = fileURLToPath(new URL('../../../wasm/buffer-access.wat', import.meta.url));
export const BYTES_PATH = fileURLToPath(new URL('../../../wasm/buffer-access.bytes.ts', import.meta.url));

/** The binary wat2wasm makes of `watPath` (canonical LEBs, no names section). */
export async function assemble(watPath: string = WAT_PATH): Promise<Uint8Array> {
  const api = await wabt();
  const module = api.parseWat('buffer-access.wat', readFileSync(watPath, 'utf8'));
  try {
    module.resolveNames();
    module.validate();
    return module.toBinary({ canonicalize_lebs: true, relocatable: false, write_debug_names: false, log: false }).buffer.slice();
  } finally {
    module.destroy();
  }
}

/** The TypeScript source of wasm/buffer-access.bytes.ts for these bytes. */
export function renderBytesModule(bytes: Uint8Array): string {
  const lines: string[] = [];
  for (let i = 0; i < bytes.length; i += 16) {
    lines.push('  ' + [...bytes.subarray(i, i + 16)].map((b) => `0x${b.toString(16).padStart(2, '0')},`).join(' '));
  }
  return [
    '// Generated from wasm/buffer-access.wat by test/bindings/wat.ts (wabt\'s wat2wasm): do not edit.',
    '// Regenerate: npx tsc -p tsconfig.json && node dist/test/bindings/wat.js --write && npx tsc -p tsconfig.json',
    `// ${bytes.length} bytes.`,
    'export const BUFFER_ACCESS_WASM = new Uint8Array([',
    ...lines,
    ']);',
    '',
  ].join('\n');
}

async function main(): Promise<void> {
  const rendered = renderBytesModule(await assemble());
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
    process.stdout.write('wasm/buffer-access.bytes.ts is current\n');
  } else {
    process.stdout.write('wasm/buffer-access.bytes.ts is stale: run with --write\n');
    process.exitCode = 1;
  }
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) await main();
