/*
 * Adaptive polling before Atomics.wait. On an idle multi-core machine, polling a shared
 * word for a few microseconds catches the other thread's answer without two futex
 * wake-ups (a synchronous call through a thread: ~1.5 us added instead of ~10 us). On a
 * loaded machine it is the opposite: the thread we wait for may need the very core we are
 * polling on, so every microsecond polled is lost (measured: 60 us per call instead of
 * 13 us). So polling is kept only while it pays, scored like a 2-bit branch predictor:
 * a poll that catches the change adds a point, one that ends without it takes one away,
 * polling stops at zero (an idle machine's rare miss, a GC pause, does not stop it), and
 * while stopped one wait in 16 polls again to notice when the machine is idle again.
 */

const MAX_SCORE = 3;

export class SpinPolicy {
  private score = MAX_SCORE;
  private tick = 0;

  constructor(private readonly maxUs: number) {}

  /** Microseconds to poll this time (0: go straight to Atomics.wait). */
  budget(): number {
    if (this.score > 0) return this.maxUs;
    return (++this.tick & 15) === 0 ? this.maxUs : 0;
  }

  /** Whether the poll of `budgetUs` saw the change it waited for. */
  record(caught: boolean, budgetUs: number): void {
    if (budgetUs <= 0) return;
    if (caught) this.score = Math.min(MAX_SCORE, this.score + 1);
    else if (this.score > 0) this.score--;
  }
}

/** Polls `ctl[index]` for up to `us` microseconds; returns its value once it differs from `value`, or `value`. */
export function pollWhile(ctl: Int32Array, index: number, value: number, us: number): number {
  if (us <= 0) return Atomics.load(ctl, index);
  const until = performance.now() + us / 1000;
  do {
    for (let i = 0; i < 64; i++) {
      const now = Atomics.load(ctl, index);
      if (now !== value) return now;
    }
  } while (performance.now() < until);
  return Atomics.load(ctl, index);
}

/** Polls `ctl[index]` for up to `us` microseconds until it equals `target`; returns its last value. */
export function pollUntil(ctl: Int32Array, index: number, target: number, us: number): number {
  if (us <= 0) return Atomics.load(ctl, index);
  const until = performance.now() + us / 1000;
  do {
    for (let i = 0; i < 64; i++) if (Atomics.load(ctl, index) === target) return target;
  } while (performance.now() < until);
  return Atomics.load(ctl, index);
}
