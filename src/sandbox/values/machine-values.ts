/*
 * The value bridge's side of one machine: the converters bound to its image, the protected
 * C function that pushes arguments, raw lookups of dotted names, and the C function behind
 * every exposed host function.
 *
 * Invariants: everything here works on the state's stack above what the caller had, and a
 * failure leaves extra values there for the caller to discard (a kernel call ends with an
 * empty stack). Name references are registry references of the current state only: the
 * kernel forgets them whenever its state is new (isolate mode opens one per call).
 */
import { installHostFunction } from '../../../wasm/host-function.js';
import { instantiateIntegerAccess, type IntegerAccess } from '../../../wasm/integer-access.js';
import { LUA_MULTRET, LUA_OK, LUA_REGISTRYINDEX, LUA_TFUNCTION, LUA_TTABLE } from '../../../wasm/lua-api.js';
import { errno } from '../errno.js';
import type { Machine } from '../machine.js';
import { CrossError } from './cross-error.js';
import { FromLua } from './from-lua.js';
import { ToLua, type ValueLimits } from './to-lua.js';

/** The registry index of the globals table (LUA_RIDX_GLOBALS). */
const RIDX_GLOBALS = 2;
/** Dotted names whose strings stay referenced in the registry, so a call looks them up without allocating. */
const MAX_CACHED_NAMES = 256;
const DOTTED_NAME = /^[^.]+(\.[^.]+)*$/;
/** Path steps that fit the stack's LUA_MINSTACK slots beside the arguments pushed without a check. */
const LOOKUP_SLOTS = 8;

export class MachineValues {
  readonly ints: IntegerAccess;
  readonly toLua: ToLua;
  readonly fromLua: FromLua;
  /** The C function behind exposed functions (upvalue 1: the function's id). */
  readonly dispatch: number;
  private readonly pushFn: number;
  private pending: readonly unknown[] = [];
  private pendingCount = 0;
  private crossError: CrossError | null = null;
  /** Registry references of the segments of dotted names, by name. */
  private readonly names = new Map<string, number[]>();
  /** The type of what the last failed lookup found where a function (or, on the way, a table) should be. */
  missing = 'nil';

  constructor(private readonly machine: Machine, limits: ValueLimits, dispatch: (values: MachineValues, L: number) => number) {
    const { image, strings, results } = machine;
    this.ints = instantiateIntegerAccess(image);
    this.toLua = new ToLua(image, strings, this.ints, limits, () => results.pushers.at(-1) ?? null);
    this.fromLua = new FromLua(image, strings.outSlot, limits, results.encoders);
    this.pushFn = installHostFunction(image, strings, (L) => {
      const n = this.pendingCount;
      try {
        this.toLua.pushAll(L, this.pending, n);
      } catch (e) {
        if (!(e instanceof CrossError)) throw e;
        this.crossError = e;
        return 0;
      }
      return n;
    });
    this.dispatch = installHostFunction(image, strings, (L) => dispatch(this, L));
  }

  /**
   * Pushes `values[0..n-1]` in a protected call. Returns LUA_OK or the status of a memory
   * error (its message on top); throws the CrossError of a value that cannot cross.
   */
  pushArgs(L: number, values: readonly unknown[], n: number): number {
    const { api } = this.machine.image;
    this.pending = values;
    this.pendingCount = n;
    api.lua_pushcclosure(L, this.pushFn, 0);
    const status = api.lua_pcallk(L, 0, LUA_MULTRET, 0, 0, 0);
    this.pending = [];
    const failed = this.crossError;
    if (failed !== null) {
      this.crossError = null;
      throw failed;
    }
    return status;
  }

  /**
   * Pushes the value of the dotted `name` (raw lookups from the globals through tables),
   * above the tables it went through.
   * Returns LUA_OK when it is a function, -ENOENT when it is not (its type name in
   * `this.missing`), -EINVAL for a name that is no dotted path, or the status of a memory error.
   */
  lookup(L: number, name: string): number {
    const { api } = this.machine.image;
    let refs = this.names.get(name);
    if (refs === undefined) {
      if (!DOTTED_NAME.test(name)) return -errno.EINVAL;
      const made: number[] = [];
      const status = this.machine.fns.protect(L, (L) => {
        for (const segment of name.split('.')) {
          this.machine.strings.pushString(L, segment);
          made.push(api.luaL_ref(L, LUA_REGISTRYINDEX));
        }
      });
      if (status !== LUA_OK) {
        for (const ref of made) api.luaL_unref(L, LUA_REGISTRYINDEX, ref);
        return status;
      }
      if (this.names.size >= MAX_CACHED_NAMES) this.forgetNames(L);
      this.names.set(name, made);
      refs = made;
    }
    const { ints } = this;
    // Each step leaves its table below: the function ends on top, the tables under it are
    // discarded with the rest of the call's stack.
    if (refs.length > LOOKUP_SLOTS && !api.lua_checkstack(L, refs.length + 2)) return -errno.EINVAL;
    ints.rawgeti(L, LUA_REGISTRYINDEX, RIDX_GLOBALS);
    let type = LUA_TTABLE;
    let found = 0;
    for (; found < refs.length && type === LUA_TTABLE; found++) {
      ints.rawgeti(L, LUA_REGISTRYINDEX, refs[found]!);
      type = api.lua_rawget(L, -2);
    }
    if (found === refs.length && type === LUA_TFUNCTION) return LUA_OK;
    this.missing = this.machine.image.readCString(api.lua_typename(L, type));
    return -errno.ENOENT;
  }

  /** Drops the cached name references (`L` null: the state they belonged to is gone). */
  forgetNames(L: number | null): void {
    if (L !== null) for (const refs of this.names.values()) for (const ref of refs) this.machine.image.api.luaL_unref(L, LUA_REGISTRYINDEX, ref);
    this.names.clear();
  }
}
