/*
 * What a loadable module is, and what it may do to the Lua state: declare global
 * functions, library tables and userdata types, and how such userdata becomes a sysLua
 * result. Declarations, not direct state edits, so the kernel can apply them to every
 * state it opens (isolate mode, a state rebuilt after a panic) and remove them exactly.
 */
import type { LogRecord } from '../sandbox/klog.js';
import type { Binding, Lua } from './lua.js';

/** A C function already compiled to Wasm (e.g. a hand-written .wat hot path), to be placed in the function table. */
export interface WasmCFunction {
  readonly wasm: WebAssembly.ExportValue;
}

export type LuaFunction = Binding | WasmCFunction;

export interface UserdataType {
  /** Metamethods (`__index`, `__newindex`, `__len`, `__call`, `__tostring`, ...). */
  metamethods?: Record<string, LuaFunction>;
  /** Methods reachable as `obj:name()`: the metatable's `__index`, so ignored when `__index` is a metamethod (it serves them then). */
  methods?: Record<string, LuaFunction>;
}

/** What the kernel offers a module besides the Lua stack. */
export interface KernelServices {
  /** Appends a record to the kernel log (printk). */
  printk(level: number, text: string): void;
  /** Bytes the Lua state holds right now. */
  memoryInUse(): number;
  dmesg(): LogRecord[];
}

export interface ModuleContext {
  readonly lua: Lua;
  readonly kernel: KernelServices;
  /** Declares the global function `name`. */
  function(name: string, fn: LuaFunction): void;
  /** Declares the global, read-only library table `name`. */
  library(name: string, functions: Record<string, LuaFunction>): void;
  /** Declares a userdata type whose metatable is registered under `name` (luaL_newmetatable). */
  userdata(name: string, type: UserdataType): void;
  /**
   * Turns a userdata returned by a script into result bytes (a view is fine: it is copied
   * at once). `encode` decides whether the value at `idx` is its kind and returns null if
   * not; it decides by itself because a value made before an rmmod/insmod cycle keeps the
   * metatable of its time.
   */
  result(encode: (L: number, idx: number) => Uint8Array | null): void;
  /**
   * Makes a Uint8Array that crosses into Lua (an argument of eval or call, a host function's
   * result) a value of this module instead of a string: `push` pushes a new one holding a
   * copy of the bytes. It runs in protected mode and may raise Lua's memory error.
   */
  fromBytes(push: (L: number, bytes: Uint8Array) => void): void;
}

export interface LunatikModule {
  readonly name: string;
  /** Modules that must be loaded first; they cannot be removed while this one is loaded. */
  readonly depends?: readonly string[];
  /** Declares what the module adds. Called once per Lua image, so it must only declare. */
  init(ctx: ModuleContext): void;
  /** Called when the module is removed. */
  exit?(ctx: ModuleContext): void;
}

export function isWasmCFunction(fn: LuaFunction): fn is WasmCFunction {
  return typeof fn === 'object' && fn !== null && 'wasm' in fn;
}
