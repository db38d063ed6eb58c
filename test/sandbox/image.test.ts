import test from 'ava';
import { createHash } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { checkImage, imagePath, loadImage, ImageMismatchError } from '../../wasm/image.js';
import { EXPECTED_EXPORTS, EXPECTED_IMPORTS } from '../../wasm/abi.js';

const sha256 = (bytes: Uint8Array | string) => createHash('sha256').update(bytes).digest('hex');
const imageDir = dirname(imagePath());
const record = JSON.parse(readFileSync(join(imageDir, 'image.json'), 'utf8')) as {
  compiler: string; flags: string[]; vendorSha256: string; patchSha256: string; bytes: number; sha256: string;
};

test('the committed image is the one its build recorded (wasm/lua/image.json)', (t) => {
  const image = readFileSync(imagePath());
  t.is(image.length, record.bytes);
  t.is(sha256(image), record.sha256);
  t.regex(record.compiler, /^emcc .* 3\.1\.6/);
  t.true(record.flags.includes('-O3'));
});

test('the recorded sources are the vendored ones: Lua 5.4.9 unmodified, plus fuel.patch', (t) => {
  // The same digest as wasm/lua/build-image.mjs: file names and contents, in name order.
  const vendor = join(imageDir, 'vendor', 'lua-5.4.9', 'src');
  const hash = createHash('sha256');
  for (const name of readdirSync(vendor).sort()) hash.update(name).update(readFileSync(join(vendor, name)));
  t.is(hash.digest('hex'), record.vendorSha256);
  t.is(sha256(readFileSync(join(imageDir, 'fuel.patch'))), record.patchSha256);
  t.regex(readFileSync(join(vendor, 'lua.h'), 'utf8'), /#define LUA_VERSION_RELEASE_NUM\s+\(LUA_VERSION_NUM \* 100 \+ 9\)/);
});

test('the Lua image is the image this code was written for', (t) => {
  t.regex(imagePath(), /wasm[/\\]lua[/\\]lua\.wasm$/);
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
  t.regex(error!.message, /unexpected import env\.system/);
  t.regex(error!.message, /missing import env\.abort/);
  t.regex(error!.message, /missing export lua_pcallk/);
  t.regex(error!.message, /missing export lunatik_fuelstart/);
  t.notRegex(error!.message, /export memory/);
});
