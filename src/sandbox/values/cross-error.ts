/*
 * Why a value cannot cross the boundary, and where it sits in the value.
 *
 * Conversions throw a CrossError from the depth where they give up; each enclosing level
 * adds its own step on the way out (a try/catch costs nothing until something throws), so
 * the path is built only for the value that failed. Not an Error subclass: no stack trace
 * is captured for what is an answer to the caller, not a bug.
 */
import { errno } from '../errno.js';

export class CrossError {
  /** Steps from the failing value outwards (innermost first). */
  readonly steps: string[] = [];

  constructor(readonly rc: number, readonly reason: string) {}

  /** Records the step of an enclosing level (called while unwinding). */
  at(step: string): this {
    this.steps.push(step);
    return this;
  }

  /** `root` followed by the steps, then the reason: `args[2].tags[3]: function cannot cross`. */
  message(root: string): string {
    let path = root;
    for (let i = this.steps.length - 1; i >= 0; i--) path += this.steps[i];
    return `${path}: ${this.reason}`;
  }
}

export function invalid(reason: string): CrossError {
  return new CrossError(-errno.EINVAL, reason);
}

export function tooBig(reason: string): CrossError {
  return new CrossError(-errno.E2BIG, reason);
}

const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

/** The path step of a property or string key: `.name`, or `["a b"]` when it is not an identifier. */
export function nameStep(key: string): string {
  return IDENTIFIER.test(key) ? `.${key}` : `[${JSON.stringify(key)}]`;
}

/** The path step of an index or any other key already in display form: `[3]`. */
export function indexStep(key: number | bigint | string): string {
  return `[${String(key)}]`;
}
