import test from 'ava';
import { checkImage, imagePath, loadImage, ImageMismatchError } from '../../wasm/image.js';
import { EXPECTED_EXPORTS, EXPECTED_IMPORTS } from '../../wasm/abi.js';

test('the installed glue.wasm is the image this code was written for', (t) => {
  t.regex(imagePath(), /wasmoon[/\\]dist[/\\]glue\.wasm$/);
  const module = loadImage();
  t.is(loadImage(), module, 'compiled once per process');
  t.notThrows(() => checkImage(module));
  t.is(WebAssembly.Module.imports(module).length, EXPECTED_IMPORTS.length);
  t.is(WebAssembly.Module.exports(module).length, EXPECTED_EXPORTS.length);
});

test('an image with other imports or exports is refused with an error naming each difference', (t) => {
  // (module (import "env" "system" (func)) (import "env" "fork" (func)) (memory (export "memory") 1))
  const bytes = new Uint8Array([
    0, 97, 115, 109, 1, 0, 0, 0,
    1, 4, 1, 0x60, 0, 0,
    2, 25, 2, 3, 101, 110, 118, 6, 115, 121, 115, 116, 101, 109, 0, 0, 3, 101, 110, 118, 4, 102, 111, 114, 107, 0, 0,
    5, 3, 1, 0, 1,
    7, 10, 1, 6, 109, 101, 109, 111, 114, 121, 2, 0,
  ]);
  const error = t.throws(() => checkImage(new WebAssembly.Module(bytes)), { instanceOf: ImageMismatchError });
  t.regex(error!.message, /unexpected import env\.fork/);
  t.regex(error!.message, /missing import env\.abort/);
  t.regex(error!.message, /missing export lua_pcallk/);
  t.notRegex(error!.message, /import env\.system/);
  t.notRegex(error!.message, /export memory/);
});
