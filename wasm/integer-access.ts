/*
 * lua_Integer arguments as plain numbers (wasm/integer-access.wat): compiled once per
 * process, instantiated once per image (it imports that image's exports).
 */
import type { LuaImage } from './instance.js';
import { INTEGER_ACCESS_WASM } from './integer-access.bytes.js';

export interface IntegerAccess {
  /** lua_pushinteger for a safe integer. */
  pushInteger(L: number, n: number): void;
  /** lua_rawseti for an index from 0 to 2^32 - 1. */
  rawseti(L: number, idx: number, i: number): void;
  /** lua_rawgeti for an index (or registry reference) that fits an int32; returns the value's type. */
  rawgeti(L: number, idx: number, i: number): number;
}

let compiled: WebAssembly.Module | undefined;

export function integerAccessModule(): WebAssembly.Module {
  compiled ??= new WebAssembly.Module(INTEGER_ACCESS_WASM);
  return compiled;
}

export function instantiateIntegerAccess(image: LuaImage): IntegerAccess {
  const { api } = image;
  const { exports } = new WebAssembly.Instance(integerAccessModule(), {
    lua: { lua_pushinteger: api.lua_pushinteger, lua_rawseti: api.lua_rawseti, lua_rawgeti: api.lua_rawgeti },
  });
  return {
    pushInteger: exports['pushinteger'] as IntegerAccess['pushInteger'],
    rawseti: exports['rawseti'] as IntegerAccess['rawseti'],
    rawgeti: exports['rawgeti'] as IntegerAccess['rawgeti'],
  };
}
