/*
 * The module loader: insmod/rmmod/lsmod over declarative modules.
 *
 * Invariants: `loaded` is in load order and every module's dependencies come before it;
 * a module's declarations exist once per image (its functions hold keyed slots of that
 * image's function table, so reloading reuses them and nothing grows); a state holds a
 * module's globals and metatables exactly while the module is loaded.
 */
import { hostFunctionRef, type HostCFunction } from '../../wasm/host-function.js';
import type { LuaImage } from '../../wasm/instance.js';
import { LUA_REGISTRYINDEX } from '../../wasm/lua-api.js';
import type { LuaStrings } from '../../wasm/lua-strings.js';
import { Lua, type Binding } from '../bindings/lua.js';
import { isWasmCFunction, type KernelServices, type LuaFunction, type LunatikModule, type ModuleContext } from '../bindings/module.js';
import { errno } from './errno.js';
import type { KernelFunctions } from './kernel-functions.js';
import type { ResultConverter, ResultEncoder } from './result.js';
import { makeReadonly } from './state.js';

export interface ModuleInfo {
  name: string;
  depends: string[];
  /** Loaded modules that depend on this one. */
  users: string[];
}

/** What a module declared, bound to one image's function table. */
interface Declared {
  functions: Map<string, number>;
  libraries: Map<string, Map<string, number>>;
  types: Map<string, { metamethods: Map<string, number>; methods: Map<string, number> }>;
  encoders: ResultEncoder[];
}

/** One image as the loader sees it. */
export interface ModuleHost {
  image: LuaImage;
  strings: LuaStrings;
  fns: KernelFunctions;
  results: ResultConverter;
  services: KernelServices;
  /** Per module name, its declarations for this image. */
  declared: Map<string, Declared>;
  /** Labels the pool's blocks with the binding that allocated them (when owners are tracked). */
  setOwner: ((label: string | null) => void) | undefined;
}

export class ModuleLoader {
  private readonly loaded: LunatikModule[] = [];

  has(name: string): boolean {
    return this.loaded.some((m) => m.name === name);
  }

  list(): ModuleInfo[] {
    return this.loaded.map((m) => ({
      name: m.name,
      depends: [...(m.depends ?? [])],
      users: this.loaded.filter((u) => u.depends?.includes(m.name)).map((u) => u.name),
    }));
  }

  /** 0, or -EEXIST (loaded), -ENOENT (a dependency is not loaded), for a module readModule accepted. */
  check(module: LunatikModule): number {
    if (this.has(module.name)) return -errno.EEXIST;
    if ((module.depends ?? []).some((d) => !this.has(d))) return -errno.ENOENT;
    return 0;
  }

  add(module: LunatikModule): void {
    this.loaded.push(module);
  }

  /** 0, -ENOENT (not loaded) or -EBUSY (a loaded module depends on it); removes it from the list. */
  remove(name: string): LunatikModule | number {
    const index = this.loaded.findIndex((m) => m.name === name);
    if (index < 0) return -errno.ENOENT;
    if (this.loaded.some((m) => m.depends?.includes(name))) return -errno.EBUSY;
    return this.loaded.splice(index, 1)[0]!;
  }

  get modules(): readonly LunatikModule[] {
    return this.loaded;
  }
}

/**
 * A copy of the caller's module, each field read exactly once, or null if it is not a module
 * (getters that throw included). The kernel keeps the copy: a getter cannot answer
 * differently later, and nothing of the caller's runs again but init and exit.
 */
export function readModule(m: unknown): LunatikModule | null {
  try {
    if (typeof m !== 'object' || m === null) return null;
    const { name, init, depends, exit } = m as Partial<LunatikModule>;
    const dependsCopy = Array.isArray(depends) ? [...depends] : depends;
    const valid = typeof name === 'string' && /^[A-Za-z_][A-Za-z0-9_]*$/.test(name) && typeof init === 'function'
      && (exit === undefined || typeof exit === 'function')
      && (dependsCopy === undefined || Array.isArray(dependsCopy) && dependsCopy.every((d) => typeof d === 'string'));
    if (!valid) return null;
    return Object.freeze({ name, init: init.bind(m), depends: dependsCopy as string[] | undefined, exit: exit?.bind(m) });
  } catch {
    return null;
  }
}

function contextFor(module: LunatikModule, host: ModuleHost, declared: Declared | null): ModuleContext {
  const lua = new Lua(host.image, host.strings);
  const binding = (fn: Binding): HostCFunction => {
    const { setOwner } = host;
    if (setOwner === undefined) return (L) => fn(lua, L);
    return (L) => {
      setOwner(module.name);
      try {
        return fn(lua, L);
      } finally {
        setOwner(null);
      }
    };
  };
  const slot = (key: string, fn: LuaFunction): number =>
    host.image.functions.define(`${module.name}:${key}`, isWasmCFunction(fn) ? fn.wasm : hostFunctionRef(host.strings, binding(fn)));
  const slots = (prefix: string, fns: Record<string, LuaFunction> = {}) =>
    new Map(Object.entries(fns).map(([name, fn]) => [name, slot(`${prefix}.${name}`, fn)]));
  return {
    lua,
    kernel: host.services,
    function(name, fn) {
      declared?.functions.set(name, slot(name, fn));
    },
    library(name, functions) {
      declared?.libraries.set(name, slots(name, functions));
    },
    userdata(name, type) {
      declared?.types.set(name, { metamethods: slots(`${name}#meta`, type.metamethods), methods: slots(`${name}#methods`, type.methods) });
    },
    result(encode) {
      if (declared === null) return;
      declared.encoders.push(encode);
      host.results.encoders.push(encode);
    },
  };
}

/** Runs the module's init against this image and records what it declared. */
export function declareModule(module: LunatikModule, host: ModuleHost): void {
  const declared: Declared = { functions: new Map(), libraries: new Map(), types: new Map(), encoders: [] };
  module.init(contextFor(module, host, declared));
  host.declared.set(module.name, declared);
}

/** Calls the module's exit and points its slots at the removed-module stub. */
export function undeclareModule(module: LunatikModule, host: ModuleHost, stub: WebAssembly.ExportValue): void {
  module.exit?.(contextFor(module, host, null));
  const declared = host.declared.get(module.name);
  host.declared.delete(module.name);
  if (declared === undefined) return;
  const encoders = host.results.encoders;
  for (const encoder of declared.encoders) encoders.splice(encoders.indexOf(encoder), 1);
  const keys = [
    ...declared.functions.keys(),
    ...[...declared.libraries].flatMap(([lib, fns]) => [...fns.keys()].map((f) => `${lib}.${f}`)),
    ...[...declared.types].flatMap(([t, { metamethods, methods }]) => [
      ...[...metamethods.keys()].map((m) => `${t}#meta.${m}`),
      ...[...methods.keys()].map((m) => `${t}#methods.${m}`),
    ]),
  ];
  for (const key of keys) host.image.functions.retire(`${module.name}:${key}`, stub);
}

/** Puts the module's globals and metatables into the state (call in protected mode). */
export function applyModule(name: string, host: ModuleHost, L: number): void {
  const declared = host.declared.get(name);
  if (declared === undefined) return;
  const { api } = host.image;
  const cs = (s: string) => host.image.cstring(s);
  for (const [type, { metamethods, methods }] of declared.types) {
    api.luaL_newmetatable(L, cs(type));
    for (const [event, fn] of metamethods) {
      api.lua_pushcclosure(L, fn, 0);
      api.lua_setfield(L, -2, cs(event));
    }
    if (!metamethods.has('__index')) {
      pushFunctionTable(host, L, methods);
      api.lua_setfield(L, -2, cs('__index'));
    }
    api.lua_pushboolean(L, 0);
    api.lua_setfield(L, -2, cs('__metatable'));
    api.lua_settop(L, -2);
  }
  for (const [global, fn] of declared.functions) {
    api.lua_pushcclosure(L, fn, 0);
    api.lua_setglobal(L, cs(global));
  }
  for (const [library, fns] of declared.libraries) {
    pushFunctionTable(host, L, fns);
    makeReadonly(host.image, L, host.fns);
    api.lua_setglobal(L, cs(library));
  }
}

/** Takes the module's globals and metatable registrations out of the state. */
export function unapplyModule(name: string, host: ModuleHost, L: number): void {
  const declared = host.declared.get(name);
  if (declared === undefined) return;
  const { api } = host.image;
  for (const global of [...declared.functions.keys(), ...declared.libraries.keys()]) {
    api.lua_pushnil(L);
    api.lua_setglobal(L, host.image.cstring(global));
  }
  for (const type of declared.types.keys()) {
    api.lua_pushnil(L);
    api.lua_setfield(L, LUA_REGISTRYINDEX, host.image.cstring(type));
  }
}

function pushFunctionTable(host: ModuleHost, L: number, fns: Map<string, number>): void {
  const { api } = host.image;
  api.lua_createtable(L, 0, fns.size);
  for (const [name, fn] of fns) {
    api.lua_pushcclosure(L, fn, 0);
    api.lua_setfield(L, -2, host.image.cstring(name));
  }
}
