/*
 * The user side of sysLua: checking the caller's arguments (never trusting their types)
 * and copying the result out like snprintf. Nothing here throws, whatever it is given.
 */
import { uint8Length, uint8View } from '../../wasm/lua-strings.js';
import { errno } from './errno.js';

/** %TypedArray%.prototype.set, taken before any caller's code can run: it writes through internal slots only. */
const typedArraySet = Uint8Array.prototype.set;

export type UserCode = Uint8Array | string;
export type UserResult = Uint8Array | null;

/** 0 if the arguments are usable, else the negative errno the contract gives them. */
export function checkUserArgs(code: unknown, codeSz: unknown, result: unknown, resultSz: unknown, codeLimit: number): number {
  // Brand checks, not instanceof: a Proxy of a Uint8Array, or an object that only inherits
  // from Uint8Array.prototype, passes instanceof and then throws (or lies) on `.length`.
  const codeLength = typeof code === 'string' ? -1 : uint8Length(code);
  if (codeLength < 0 && typeof code !== 'string') return -errno.EFAULT;
  const resultLength = result === null ? -1 : uint8Length(result);
  if (result !== null && resultLength < 0) return -errno.EFAULT;
  if (!isSize(codeSz) || !isSize(resultSz)) return -errno.EINVAL;
  if (result === null ? resultSz > 0 : resultSz > resultLength) return -errno.EFAULT;
  if (codeLength >= 0 && codeSz > codeLength) return -errno.EFAULT;
  // A string's UTF-8 length is at most 3 bytes per UTF-16 unit and at least one.
  if (typeof code === 'string' && codeSz > code.length && codeSz > utf8Length(code)) return -errno.EFAULT;
  if (codeSz > codeLimit + 1 || (codeSz === codeLimit + 1 && lastByte(code as UserCode, codeSz) !== 0)) return -errno.E2BIG;
  return 0;
}

function isSize(n: unknown): n is number {
  return typeof n === 'number' && Number.isSafeInteger(n) && n >= 0;
}

export function utf8Length(s: string): number {
  return Buffer.byteLength(s, 'utf8');
}

function lastByte(code: UserCode, codeSz: number): number {
  // An integer index of a genuine typed array never reaches its own or inherited properties.
  if (typeof code !== 'string') return code[codeSz - 1]!;
  return Buffer.from(code, 'utf8')[codeSz - 1] ?? -1;
}

/** A private copy of the first codeSz bytes (copy_from_user), for work that runs later. Expects checked arguments. */
export function copyFromUser(code: UserCode, codeSz: number): Uint8Array {
  // Through a fresh view: the caller's own `slice` must not run here.
  return typeof code === 'string' ? Buffer.from(code, 'utf8').subarray(0, codeSz) : uint8View(code, codeSz)!.slice();
}

/** Length of the code sysLua runs, `length` bytes at `offset`: lunatik-ng counted the terminating NUL in code_sz, so one trailing NUL is dropped. */
export function withoutTrailingNul(bytes: Uint8Array, offset: number, length: number): number {
  return length > 0 && bytes[offset + length - 1] === 0 ? length - 1 : length;
}

/** snprintf: the first min(n, resultSz - 1) bytes then a NUL; returns n, the whole length. */
export function copyToUser(result: UserResult, resultSz: number, bytes: Uint8Array): number {
  // The intrinsic `set` and an integer index: an own `set` or `length` on the caller's array never runs.
  if (result !== null && resultSz > 0 && resultSz <= uint8Length(result)) {
    const n = Math.min(bytes.length, resultSz - 1);
    typedArraySet.call(result, n === bytes.length ? bytes : bytes.subarray(0, n), 0);
    result[n] = 0;
  }
  return bytes.length;
}
