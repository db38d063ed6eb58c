/*
 * The layout scripts of this example, as the Lua source a LayoutEngine is given. Each file
 * under scripts/ is one layout; the helpers it uses (scripts/lib/) are put in front of it,
 * so what is installed is a single self-contained chunk.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const LAYOUTS = ['file-layout', 'flex-files', 'raid5', 'crush', 'ring'] as const;
export type LayoutName = (typeof LAYOUTS)[number];

const LIBS: Record<LayoutName, readonly string[]> = {
  'file-layout': ['params', 'stripe'],
  'flex-files': ['params', 'stripe'],
  raid5: ['params'],
  crush: ['params', 'hash', 'log2', 'objects'],
  ring: ['params', 'hash', 'objects'],
};

// From dist/examples/layouts/ back to the sources, which tsc does not copy.
const SCRIPTS = new URL('../../../examples/layouts/scripts/', import.meta.url);

function read(path: string): string {
  return readFileSync(fileURLToPath(new URL(path, SCRIPTS)), 'utf8');
}

/** A helper of scripts/lib/ (its local functions), for tests that compare it with TypeScript. */
export function libScript(name: 'hash' | 'log2' | 'objects' | 'params' | 'stripe'): string {
  return read(`lib/${name}.lua`);
}

const cache = new Map<LayoutName, string>();

/** The Lua source of a layout: a chunk returning `function(params, devices)`. */
export function layoutScript(name: LayoutName): string {
  let source = cache.get(name);
  if (source === undefined) {
    source = [...LIBS[name].map((lib) => read(`lib/${lib}.lua`)), read(`${name}.lua`)].join('\n');
    cache.set(name, source);
  }
  return source;
}
