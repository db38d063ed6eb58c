/*
 * The ABI of wasmoon 1.16.0's glue.wasm that this code was written against.
 *
 * The image is a prebuilt Emscripten build of Lua 5.4; we instantiate it with our own
 * import object instead of Emscripten's JS glue, so any change to its imports or exports
 * (a new wasmoon release) must be caught at load time, not discovered as a crash.
 */

export const WASMOON_VERSION = '1.16.0';

/** Every import of the image, as `module.name`. */
export const EXPECTED_IMPORTS: readonly string[] = [
  'env.abort', 'env.invoke_vii', 'env.strftime', 'env.system', 'env.exit',
  'env.emscripten_date_now', 'env._emscripten_get_now_is_monotonic',
  'env.__syscall_openat', 'env.__syscall_fcntl64', 'env.__syscall_ioctl',
  'wasi_snapshot_preview1.fd_write', 'wasi_snapshot_preview1.fd_read',
  'wasi_snapshot_preview1.fd_close', 'env.__syscall_dup3',
  'wasi_snapshot_preview1.environ_sizes_get', 'wasi_snapshot_preview1.environ_get',
  'wasi_snapshot_preview1.fd_seek', 'env._mktime_js', 'env._localtime_js', 'env._gmtime_js',
  'env.__syscall_unlinkat', 'env.__syscall_rmdir', 'env.__syscall_renameat',
  'env.__syscall_readlinkat', 'env._tzset_js', 'env.emscripten_resize_heap',
  'env._emscripten_throw_longjmp',
];

/** Every export of the image. */
export const EXPECTED_EXPORTS: readonly string[] = [
  'memory', '__wasm_call_ctors', 'lua_checkstack', 'lua_xmove', 'lua_atpanic', 'lua_version',
  'lua_absindex', 'lua_gettop', 'lua_settop', 'lua_closeslot', 'lua_rotate', 'lua_copy',
  'lua_pushvalue', 'lua_type', 'lua_typename', 'lua_iscfunction', 'lua_isinteger',
  'lua_isnumber', 'lua_isstring', 'lua_isuserdata', 'lua_rawequal', 'lua_arith', 'lua_compare',
  'lua_stringtonumber', 'lua_tonumberx', 'lua_tointegerx', 'lua_toboolean', 'lua_tolstring',
  'lua_rawlen', 'lua_tocfunction', 'lua_touserdata', 'lua_tothread', 'lua_topointer',
  'lua_pushnil', 'lua_pushnumber', 'lua_pushinteger', 'lua_pushlstring', 'lua_pushstring',
  'lua_pushcclosure', 'lua_pushboolean', 'lua_pushlightuserdata', 'lua_pushthread',
  'lua_getglobal', 'lua_gettable', 'lua_getfield', 'lua_geti', 'lua_rawget', 'lua_rawgeti',
  'lua_rawgetp', 'lua_createtable', 'lua_getmetatable', 'lua_getiuservalue', 'lua_setglobal',
  'lua_settable', 'lua_setfield', 'lua_seti', 'lua_rawset', 'lua_rawsetp', 'lua_rawseti',
  'lua_setmetatable', 'lua_setiuservalue', 'lua_callk', 'lua_pcallk', 'lua_load', 'lua_dump',
  'lua_status', 'lua_error', 'lua_next', 'lua_toclose', 'lua_concat', 'lua_len',
  'lua_getallocf', 'lua_setallocf', 'lua_setwarnf', 'lua_warning', 'lua_newuserdatauv',
  'lua_getupvalue', 'lua_setupvalue', 'lua_upvalueid', 'lua_upvaluejoin',
  '__indirect_function_table', 'luaL_traceback', 'lua_getstack', 'lua_getinfo',
  'luaL_buffinit', 'luaL_addstring', 'luaL_prepbuffsize', 'luaL_addvalue', 'luaL_pushresult',
  'luaL_argerror', 'luaL_typeerror', 'luaL_getmetafield', 'luaL_where', 'luaL_fileresult',
  '__errno_location', 'luaL_execresult', 'luaL_newmetatable', 'luaL_setmetatable',
  'luaL_testudata', 'luaL_checkudata', 'luaL_optlstring', 'luaL_checklstring',
  'luaL_checkstack', 'luaL_checktype', 'luaL_checkany', 'luaL_checknumber', 'luaL_optnumber',
  'luaL_checkinteger', 'luaL_optinteger', 'luaL_setfuncs', 'luaL_addlstring',
  'luaL_pushresultsize', 'luaL_buffinitsize', 'luaL_ref', 'luaL_unref', 'luaL_loadfilex',
  'luaL_loadbufferx', 'luaL_loadstring', 'luaL_callmeta', 'luaL_len', 'luaL_tolstring',
  'luaL_getsubtable', 'luaL_requiref', 'luaL_addgsub', 'luaL_gsub', 'luaL_newstate',
  'lua_newstate', 'free', 'realloc', 'fflush', 'luaL_checkversion_', 'luaopen_base',
  'luaopen_coroutine', 'lua_newthread', 'lua_yieldk', 'lua_isyieldable', 'lua_resetthread',
  'lua_resume', 'luaopen_debug', 'lua_gethookmask', 'lua_gethook', 'lua_gethookcount',
  'lua_getlocal', 'lua_sethook', 'lua_setlocal', 'lua_setcstacklimit', 'malloc',
  'luaL_openlibs', 'luaopen_package', 'luaopen_table', 'luaopen_io', 'luaopen_os',
  'luaopen_string', 'luaopen_math', 'luaopen_utf8', 'lua_close', 'setThrew',
  'emscripten_stack_init', 'emscripten_stack_get_free', 'emscripten_stack_get_base',
  'emscripten_stack_get_end', 'stackSave', 'stackRestore', 'stackAlloc',
  'emscripten_stack_get_current',
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
