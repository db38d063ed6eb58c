// The image's compile strategies (wasm/compile.ts): the hinted image is the same module
// plus one custom section, and every strategy gives a module with the image's ABI.
// Asserts structure only, never timings.
import test from 'ava';
import { readFileSync } from 'node:fs';
import {
  LUAV_EXECUTE, compileImage, hintsSupported, hotFunctions, isCompileStrategy, moduleLayout, withCompilationHints,
} from '../../wasm/compile.js';
import { primeInterpreter } from '../../wasm/compile-prime.js';
import { checkImage, imageCompileInfo, imagePath, loadImage, setCompileStrategy } from '../../wasm/image.js';

const bytes = readFileSync(imagePath());

const layout = moduleLayout(bytes);
const [luaVExecute] = hotFunctions(layout);
const declared = layout.declaredFunctions;

test('the layout of the image: its imports and declared functions, luaV_execute found by name', (t) => {
  t.is(layout.importedFunctions, WebAssembly.Module.imports(new WebAssembly.Module(bytes)).filter((i) => i.kind === 'function').length);
  t.is(layout.bodySizes.length, declared);
  t.true(luaVExecute !== undefined && luaVExecute >= layout.importedFunctions);
  t.is(layout.names.get(luaVExecute!), LUAV_EXECUTE);
  // The interpreter loop is by far the largest function: the name points at the right body.
  t.is(layout.bodySizes[luaVExecute! - layout.importedFunctions], Math.max(...layout.bodySizes));
});

test('an image without the name gets no hints', (t) => {
  const names = new Map([...layout.names].filter(([, name]) => name !== LUAV_EXECUTE));
  t.deepEqual(hotFunctions({ ...layout, names }), []);
});

test('the hinted image is valid, keeps the ABI and carries one hint byte per declared function', (t) => {
  const hinted = withCompilationHints(bytes, [luaVExecute!]);
  t.true(WebAssembly.validate(hinted));
  const module = new WebAssembly.Module(hinted);
  t.notThrows(() => checkImage(module));
  const [section, ...more] = WebAssembly.Module.customSections(module, 'compilationHints');
  t.is(more.length, 0);
  const payload = new Uint8Array(section!);
  // LEB128 of the declared count (two bytes for 128..16383), then the hint bytes.
  t.deepEqual([...payload.subarray(0, 2)], [(declared & 0x7f) | 0x80, declared >> 7]);
  const hints = payload.subarray(2);
  t.is(hints.length, declared);
  t.is(hints[luaVExecute! - layout.importedFunctions], 0x28);
  t.is(hints.filter((h) => h !== 0).length, 1);
  // Everything but the inserted section is the original, in order.
  t.is(hinted.length, bytes.length + 1 + 2 + 1 + 'compilationHints'.length + 2 + declared);
});

test('hints outside the declared functions are refused', (t) => {
  t.throws(() => withCompilationHints(bytes, [3]), { instanceOf: RangeError });
  t.throws(() => withCompilationHints(bytes, [layout.importedFunctions + declared]), { instanceOf: RangeError });
});

test('compile strategies', (t) => {
  t.true(isCompileStrategy('hinted'));
  t.false(isCompileStrategy('turbo'));
  t.true(hintsSupported(11));
  t.false(hintsSupported(13));
});

for (const strategy of ['hinted', 'baseline', 'optimized'] as const) {
  test(`the ${strategy} strategy compiles a module with the image's ABI`, (t) => {
    const { module, info } = compileImage(bytes, strategy);
    t.notThrows(() => checkImage(module));
    t.is(info.requested, strategy);
    if (strategy === 'hinted' && hintsSupported()) {
      t.is(info.strategy, 'hinted');
      t.deepEqual(info.hinted, [luaVExecute]);
    } else if (strategy !== 'hinted') {
      t.is(info.strategy, strategy);
    }
  });
}

test('priming runs a chunk in a throwaway instance of the hinted image', (t) => {
  const { module } = compileImage(bytes, 'hinted');
  const ms = primeInterpreter(module);
  t.is(typeof ms, 'number');
  // Priming again is harmless (luaV_execute is compiled once, the rest is one tiny call).
  t.is(typeof primeInterpreter(module), 'number');
});

test('the process image is compiled with the hinted strategy and primed by default', (t) => {
  if (process.env['LUNATIK_WASM_COMPILE'] !== undefined || !hintsSupported()) return t.pass();
  loadImage();
  const info = imageCompileInfo();
  t.is(info?.strategy, 'hinted');
  t.is(typeof info?.primeMs, 'number');
  t.throws(() => setCompileStrategy('baseline'), { message: /already compiled/ });
  t.notThrows(() => setCompileStrategy('hinted'));
});
