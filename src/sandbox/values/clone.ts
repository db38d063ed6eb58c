/*
 * Values that crossed a thread by structured clone: the clone keeps every own property
 * (a "__proto__" key stays an own property) but gives objects Object.prototype again.
 * The mapping's objects have a null prototype; this puts it back, in place.
 */
import type { ValueResult } from './value-calls.js';

function restore(value: unknown): void {
  if (typeof value !== 'object' || value === null) return;
  if (Array.isArray(value)) {
    for (const element of value) restore(element);
  } else if (Object.getPrototypeOf(value) === Object.prototype) {
    Object.setPrototypeOf(value, null);
    for (const key of Object.keys(value)) restore((value as Record<string, unknown>)[key]);
  }
}

/** A result that arrived from another thread, with the mapping's null prototypes restored. */
export function fromClone(result: ValueResult): ValueResult {
  if (result.values !== undefined) for (const value of result.values) restore(value);
  return result;
}
