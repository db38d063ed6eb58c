/*
 * Per-call limits enforced from inside the VM: an instruction budget and a soft deadline,
 * both through Lua's count hook.
 *
 * Invariants: `charged` never falls below the VM instructions the call has executed, so
 * no script runs past its budget: each thread's hook fires every `granularity`
 * instructions and charges them, and a new coroutine is charged `granularity` up front
 * for the instructions it may run before its own first hook. Once a limit is passed the
 * running thread's hook fires on every instruction and raises again, so pcall, xpcall,
 * error handlers and __close cannot swallow it; the call ends with -ETIME. Finalizers
 * (__gc) run with hooks off in Lua 5.4: only a kernel thread's hard deadline stops those,
 * as it stops a hang inside C (pattern matching) where no hook fires at all.
 */
import type { LuaImage } from '../../wasm/instance.js';
import { LUA_MASKCOUNT } from '../../wasm/lua-api.js';
import type { LuaStrings } from '../../wasm/lua-strings.js';
import { SIG_LUA_HOOK } from '../../wasm/trampoline.js';

/** Instructions between two hook calls: the cost of the hook itself is then negligible. */
const GRANULARITY = 1000;

export type LimitExceeded = 'instructions' | 'time';

export class CallBudget {
  private charged = 0;
  private deadline = Infinity;
  private exceeded: LimitExceeded | null = null;
  private readonly hookFn: number;

  constructor(
    private readonly image: LuaImage,
    strings: LuaStrings,
    private readonly instructions: number | undefined,
    private readonly timeMs: number | undefined,
  ) {
    this.hookFn = image.functions.install(SIG_LUA_HOOK, (L: number) => {
      this.charged += this.granularity;
      if (this.exceeded === null) {
        if (this.instructions !== undefined && this.charged >= this.instructions) this.exceeded = 'instructions';
        else if (this.timeMs !== undefined && performance.now() > this.deadline) this.exceeded = 'time';
      }
      if (this.exceeded !== null) {
        this.image.api.lua_sethook(L, this.hookFn, LUA_MASKCOUNT, 1);
        strings.raise(L, this.message);
      }
    });
  }

  private get granularity(): number {
    return Math.min(GRANULARITY, this.instructions ?? GRANULARITY);
  }

  /** Arms the hook on the state's main thread for a new call. */
  start(L: number): void {
    this.charged = 0;
    this.exceeded = null;
    this.deadline = this.timeMs === undefined ? Infinity : performance.now() + this.timeMs;
    this.image.api.lua_sethook(L, this.hookFn, LUA_MASKCOUNT, this.granularity);
  }

  /** Disarms it, so the kernel's own work after the call is not charged. */
  stop(L: number): void {
    this.image.api.lua_sethook(L, 0, 0, 0);
  }

  /** A coroutine was created: charge what it may run before its first hook. */
  chargeThread(): void {
    this.charged += this.granularity;
  }

  /** Instructions charged to the current call (a multiple of the hook granularity). */
  get instructionsCharged(): number {
    return this.charged;
  }

  get limitExceeded(): LimitExceeded | null {
    return this.exceeded;
  }

  get message(): string {
    return this.exceeded === 'time'
      ? `time limit of ${this.timeMs} ms exceeded`
      : `instruction budget of ${this.instructions} exceeded`;
  }
}
