/*
 * The ABI of the Lua image this code was written against: wasm/lua/lua.wasm, built by
 * wasm/lua/build-image.mjs from Lua 5.4.9 with the fuel patch.
 *
 * The image is instantiated with our own import object instead of Emscripten's JS glue, so
 * any change to its imports or exports (a rebuild with other flags or another compiler)
 * must be caught at load time, not discovered as a crash.
 */

/** Every import of the image, as `module.name`. */
export const EXPECTED_IMPORTS: readonly string[] = [
  'env.__syscall_dup3', 'env.__syscall_fcntl64', 'env.__syscall_ioctl', 'env.__syscall_open',
  'env._emscripten_throw_longjmp', 'env.abort', 'env.clock', 'env.emscripten_memcpy_big',
  'env.emscripten_resize_heap', 'env.getTempRet0', 'env.invoke_vii', 'env.lunatik_refuel',
  'env.setTempRet0', 'env.time', 'wasi_snapshot_preview1.fd_close',
  'wasi_snapshot_preview1.fd_read', 'wasi_snapshot_preview1.fd_seek',
  'wasi_snapshot_preview1.fd_write',
];

/** Every export of the image. */
export const EXPECTED_EXPORTS: readonly string[] = [
  '__indirect_function_table', '__wasm_call_ctors', 'emscripten_stack_init', 'free',
  'luaL_addgsub', 'luaL_addlstring', 'luaL_addstring', 'luaL_addvalue', 'luaL_argerror',
  'luaL_buffinit', 'luaL_buffinitsize', 'luaL_callmeta', 'luaL_checkany', 'luaL_checkinteger',
  'luaL_checklstring', 'luaL_checknumber', 'luaL_checkoption', 'luaL_checkstack', 'luaL_checktype',
  'luaL_checkudata', 'luaL_checkversion_', 'luaL_execresult', 'luaL_fileresult',
  'luaL_getmetafield', 'luaL_getsubtable', 'luaL_gsub', 'luaL_len', 'luaL_loadbufferx',
  'luaL_loadfilex', 'luaL_loadstring', 'luaL_newmetatable', 'luaL_newstate', 'luaL_optinteger',
  'luaL_optlstring', 'luaL_optnumber', 'luaL_prepbuffsize', 'luaL_pushresult',
  'luaL_pushresultsize', 'luaL_ref', 'luaL_requiref', 'luaL_setfuncs', 'luaL_setmetatable',
  'luaL_testudata', 'luaL_tolstring', 'luaL_traceback', 'luaL_typeerror', 'luaL_unref',
  'luaL_where', 'lua_absindex', 'lua_arith', 'lua_atpanic', 'lua_callk', 'lua_checkstack',
  'lua_close', 'lua_closeslot', 'lua_closethread', 'lua_compare', 'lua_concat', 'lua_copy',
  'lua_createtable', 'lua_dump', 'lua_error', 'lua_getallocf', 'lua_getfield', 'lua_getglobal',
  'lua_gethook', 'lua_gethookcount', 'lua_gethookmask', 'lua_geti', 'lua_getinfo',
  'lua_getiuservalue', 'lua_getlocal', 'lua_getmetatable', 'lua_getstack', 'lua_gettable',
  'lua_gettop', 'lua_getupvalue', 'lua_iscfunction', 'lua_isinteger', 'lua_isnumber',
  'lua_isstring', 'lua_isuserdata', 'lua_isyieldable', 'lua_len', 'lua_load', 'lua_newstate',
  'lua_newthread', 'lua_newuserdatauv', 'lua_next', 'lua_pcallk', 'lua_pushboolean',
  'lua_pushcclosure', 'lua_pushinteger', 'lua_pushlightuserdata', 'lua_pushlstring', 'lua_pushnil',
  'lua_pushnumber', 'lua_pushstring', 'lua_pushthread', 'lua_pushvalue', 'lua_rawequal',
  'lua_rawget', 'lua_rawgeti', 'lua_rawgetp', 'lua_rawlen', 'lua_rawset', 'lua_rawseti',
  'lua_rawsetp', 'lua_resetthread', 'lua_resume', 'lua_rotate', 'lua_setallocf',
  'lua_setcstacklimit', 'lua_setfield', 'lua_setglobal', 'lua_sethook', 'lua_seti',
  'lua_setiuservalue', 'lua_setlocal', 'lua_setmetatable', 'lua_settable', 'lua_settop',
  'lua_setupvalue', 'lua_setwarnf', 'lua_status', 'lua_stringtonumber', 'lua_toboolean',
  'lua_tocfunction', 'lua_toclose', 'lua_tointegerx', 'lua_tolstring', 'lua_tonumberx',
  'lua_topointer', 'lua_tothread', 'lua_touserdata', 'lua_type', 'lua_typename', 'lua_upvalueid',
  'lua_upvaluejoin', 'lua_version', 'lua_warning', 'lua_xmove', 'lua_yieldk', 'luaopen_base',
  'luaopen_coroutine', 'luaopen_math', 'luaopen_string', 'luaopen_table', 'luaopen_utf8',
  'lunatik_fuelstart', 'lunatik_fuelused', 'malloc', 'memory', 'realloc', 'setThrew',
  'stackRestore', 'stackSave',
];

/** Names present on one side only; both empty means the image matches. */
export function diffNames(expected: readonly string[], actual: readonly string[]): { missing: string[]; extra: string[] } {
  const have = new Set(actual);
  const want = new Set(expected);
  return {
    missing: expected.filter((n) => !have.has(n)),
    extra: actual.filter((n) => !want.has(n)),
  };
}
