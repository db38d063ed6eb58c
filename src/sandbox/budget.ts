/*
 * Per-call limits, enforced inside the image by fuel (wasm/lua/lunatik/lfuel.c): every
 * dispatched Lua instruction costs a unit, and so do the steps of the C loops a script
 * can keep running (pattern matching, string.rep, table.move, ... listed in lfuel.c).
 * The image asks this meter for fuel in slices; when the meter refuses, the running
 * operation raises LUA_ERRFUEL, and so does every later charge of the call, in any
 * coroutine, message handler, __close or __gc: nothing in the script can evade it.
 *
 * Invariants: the meter is armed at all times (start() at each call, and again after it,
 * so the kernel's own work between calls, such as finalizers at shutdown, runs under a
 * fresh budget too); `used` is exact and the same in every run of the same script, since
 * the image's clock reads zero and nothing else varies. The soft deadline is checked at
 * each slice: every TIME_SLICE units when timeMs is set (about a millisecond of Lua).
 */
import { UNLIMITED_FUEL, type LuaImage } from '../../wasm/instance.js';

/** Units between two clock checks when a deadline is set. */
const TIME_SLICE = 1 << 20;

export type LimitExceeded = 'instructions' | 'time';

export class CallBudget {
  private deadline = Infinity;
  private exceeded: LimitExceeded | null = null;

  /** `instructions` may be Infinity (no budget); `timeMs` undefined means no deadline. */
  constructor(
    private readonly image: LuaImage,
    private readonly instructions: number,
    private readonly timeMs: number | undefined,
  ) {}

  /** Arms the meter for a new call. */
  start(): void {
    this.exceeded = null;
    this.deadline = this.timeMs === undefined ? Infinity : performance.now() + this.timeMs;
    this.image.api.lunatik_fuelstart(this.slice(0));
  }

  /** The image ran out of fuel after `used` units: the next slice, or 0 to stop the call. */
  refuel(used: number): number {
    if (this.exceeded === null) {
      if (used >= this.instructions) this.exceeded = 'instructions';
      else if (performance.now() > this.deadline) this.exceeded = 'time';
    }
    return this.exceeded === null ? this.slice(used) : 0;
  }

  private slice(used: number): number {
    return Math.min(this.instructions - used, this.timeMs === undefined ? UNLIMITED_FUEL : TIME_SLICE);
  }

  /** Units charged since start(): Lua instructions plus the C loops' units. */
  get used(): number {
    return this.image.api.lunatik_fuelused();
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
