// wasm/integer-access.wat is the source of the BigInt-free integer helpers; the runtime
// loads the bytes committed in wasm/integer-access.bytes.ts (see test/wat.ts).
import test from 'ava';
import { INTEGER_ACCESS_WASM } from '../../wasm/integer-access.bytes.js';
import { instantiateIntegerAccess, integerAccessModule } from '../../wasm/integer-access.js';
import { LuaImage } from '../../wasm/instance.js';
import { LUA_REGISTRYINDEX, LUA_TNUMBER } from '../../wasm/lua-api.js';
import { INTEGER_ACCESS, assemble, committed, render } from '../wat.js';

test('the committed bytes are wat2wasm of integer-access.wat (else: node dist/test/wat.js --write)', async (t) => {
  t.deepEqual([...INTEGER_ACCESS_WASM], [...(await assemble('wasm/integer-access.wat'))]);
  t.is(committed(INTEGER_ACCESS), await render(INTEGER_ACCESS));
});

test('the module imports only the three C API functions it widens', (t) => {
  t.deepEqual(WebAssembly.Module.imports(integerAccessModule()).map((i) => `${i.kind} ${i.module}.${i.name}`).sort(),
    ['function lua.lua_pushinteger', 'function lua.lua_rawgeti', 'function lua.lua_rawseti']);
});

test('pushinteger, rawseti and rawgeti agree with the BigInt C API calls', (t) => {
  const image = LuaImage.instantiate({ console: () => undefined, maxMemoryBytes: 64 * 1024 * 1024 });
  const { api } = image;
  const ints = instantiateIntegerAccess(image);
  const L = api.luaL_newstate();
  for (const n of [0, 1, -1, 2 ** 31, -(2 ** 31) - 1, Number.MAX_SAFE_INTEGER, -Number.MAX_SAFE_INTEGER]) {
    ints.pushInteger(L, n);
    t.is(api.lua_isinteger(L, -1), 1);
    t.is(api.lua_tointegerx(L, -1, 0), BigInt(n));
    api.lua_settop(L, 0);
  }
  api.lua_createtable(L, 0, 0);
  for (const i of [1, 2, 2 ** 32 - 1]) {
    api.lua_pushinteger(L, BigInt(i) * 10n);
    ints.rawseti(L, 1, i);
    t.is(api.lua_rawgeti(L, 1, BigInt(i)), LUA_TNUMBER);
    t.is(api.lua_tointegerx(L, -1, 0), BigInt(i) * 10n);
    t.is(ints.rawgeti(L, 1, i === 2 ** 32 - 1 ? -1 : i), i === 2 ** 32 - 1 ? 0 : LUA_TNUMBER, 'rawgeti takes a signed index');
    api.lua_settop(L, 1);
  }
  api.lua_pushboolean(L, 1);
  const ref = api.luaL_ref(L, LUA_REGISTRYINDEX);
  t.is(ints.rawgeti(L, LUA_REGISTRYINDEX, ref), 1, 'a registry reference');
  api.lua_close(L);
});
