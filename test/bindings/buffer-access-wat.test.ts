// wasm/buffer-access.wat is the source of the buffer hot path; the runtime loads the bytes
// committed in wasm/buffer-access.bytes.ts. Both must be what wabt's wat2wasm makes of the
// .wat today (see test/wat.ts for why the bytes are committed).
import test from 'ava';
import { BUFFER_ACCESS_WASM } from '../../wasm/buffer-access.bytes.js';
import { bufferAccessModule } from '../../wasm/buffer-access.js';
import { BUFFER_ACCESS, assemble, committed, render } from '../wat.js';

test('the committed bytes are wat2wasm of buffer-access.wat (else: node dist/test/wat.js --write)', async (t) => {
  t.deepEqual([...BUFFER_ACCESS_WASM], [...(await assemble('wasm/buffer-access.wat'))]);
  t.is(committed(BUFFER_ACCESS), await render(BUFFER_ACCESS), 'the generated file is exactly what the generator writes');
});

test('the module has the imports and exports the loader expects', (t) => {
  const module = bufferAccessModule();
  t.deepEqual(WebAssembly.Module.exports(module).map((e) => `${e.kind} ${e.name}`).sort(),
    ['function call', 'function index', 'function len', 'function newindex', 'function selftest']);
  t.deepEqual(WebAssembly.Module.imports(module).map((i) => `${i.kind} ${i.module}.${i.name}`).sort(), [
    'function host.index', 'function host.newindex', 'function host.notbuffer',
    'function lua.lua_createtable', 'function lua.lua_gettop', 'function lua.lua_isinteger', 'function lua.lua_pushinteger',
    'function lua.lua_rawseti', 'function lua.lua_tointegerx', 'function lua.lua_touserdata', 'memory lua.memory',
  ]);
});
