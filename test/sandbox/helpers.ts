// Shared helpers of the sandbox tests: calling sysLua with the right sizes, checking that
// a kernel still serves, and oracles written from Lua 5.4's and C's semantics (not from
// what the code under test printed).
import type { ExecutionContext } from 'ava';
import { errno, type Kernel } from '../../src/index.js';

export const encoder = new TextEncoder();
export const decoder = new TextDecoder();

/** UTF-8 bytes of `s`. */
export const utf8 = (s: string): Uint8Array => encoder.encode(s);

/** Every negative value the contract allows sysLua to return. */
export const CONTRACT_ERRNOS: ReadonlySet<number> = new Set([
  errno.EINVAL, errno.ENOEXEC, errno.ECANCELED, errno.ENOMEM, errno.ETIME, errno.EINTR,
  errno.EFAULT, errno.E2BIG, errno.EBUSY, errno.ESHUTDOWN,
].map((e) => -e));

export interface Call {
  rc: number;
  /** The result buffer after the call. */
  buf: Uint8Array;
  /** The bytes before the NUL sysLua wrote (all of them when rc >= 0 and not truncated). */
  bytes: Uint8Array;
  /** `bytes` decoded as UTF-8. */
  text: string;
}

/** sysLua with codeSz = the code's UTF-8 length and a result buffer of `size` bytes. */
export function call(k: Kernel, code: string | Uint8Array, size = 4096): Call {
  const codeSz = typeof code === 'string' ? Buffer.byteLength(code) : code.length;
  const buf = new Uint8Array(size).fill(0xaa);
  const rc = k.sysLua(code, codeSz, buf, size);
  let end = buf.indexOf(0);
  if (rc >= 0 && rc < size) end = rc; // the value may itself contain NULs
  const bytes = buf.slice(0, end < 0 ? size : end);
  return { rc, buf, bytes, text: decoder.decode(bytes) };
}

/** The kernel still answers `return 1+1` with "2" (through sysLua, with the NUL after it). */
export function assertServes(t: ExecutionContext, k: Kernel, note = ''): void {
  const buf = new Uint8Array(8).fill(0xaa);
  const rc = k.sysLua('return 1+1', 10, buf, 8);
  t.is(rc, 1, `kernel still serves ${note}`);
  t.deepEqual([...buf.subarray(0, 2)], [0x32, 0], `kernel still serves ${note}`);
}

export const SENTINEL = 0xa5;

/** A buffer filled with SENTINEL, to check that a call left it untouched. */
export const sentinelBuffer = (size: number): Uint8Array => new Uint8Array(size).fill(SENTINEL);

export const untouched = (buf: Uint8Array): boolean => buf.every((b) => b === SENTINEL);

/** Lua source that evaluates to exactly the double `x` (through its IEEE-754 bytes). */
export function luaDoubleExpr(x: number): string {
  const bytes = new Uint8Array(new Float64Array([x]).buffer);
  return `(string.unpack("<d", "${[...bytes].map((b) => `\\x${b.toString(16).padStart(2, '0')}`).join('')}"))`;
}

/**
 * Lua 5.4's tostring of a float (lua_Number2str): C's "%.14g" of the exact binary value,
 * rounded half to even as glibc and musl do, then ".0" if the text looks like an integer.
 * Written from the C standard's definition of %g, with BigInt arithmetic; NaN's sign is
 * platform-dependent, so it is not handled here.
 */
export function luaFloatToString(x: number): string {
  if (Number.isNaN(x)) throw new RangeError('NaN prints as "nan" or "-nan" depending on its sign bit');
  const negative = x < 0 || Object.is(x, -0);
  const body = Number.isFinite(x) ? formatG(Math.abs(x), 14) : 'inf';
  const text = (negative ? '-' : '') + body;
  return /^[-0-9]*$/.test(text) ? `${text}.0` : text;
}

function formatG(x: number, precision: number): string {
  if (x === 0) return '0';
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, x);
  const bits = view.getBigUint64(0);
  const exponentBits = Number((bits >> 52n) & 0x7ffn);
  const fraction = bits & ((1n << 52n) - 1n);
  // x = mantissa * 2^exponent exactly
  const mantissa = exponentBits === 0 ? fraction : fraction | (1n << 52n);
  const exponent = exponentBits === 0 ? -1074 : exponentBits - 1075;

  let decimalExponent = Math.floor(Math.log10(x));
  let digits = 0n;
  const low = 10n ** BigInt(precision - 1);
  const high = 10n ** BigInt(precision);
  for (let guard = 0; guard < 8; guard++) {
    let num = mantissa;
    let den = 1n;
    if (exponent >= 0) num <<= BigInt(exponent);
    else den <<= BigInt(-exponent);
    const shift = precision - 1 - decimalExponent;
    if (shift >= 0) num *= 10n ** BigInt(shift);
    else den *= 10n ** BigInt(-shift);
    let q = num / den;
    const r = num % den;
    if (2n * r > den || (2n * r === den && (q & 1n) === 1n)) q += 1n;
    if (q >= high) decimalExponent += 1;
    else if (q < low) decimalExponent -= 1;
    else {
      digits = q;
      break;
    }
  }
  const d = digits.toString();
  const trim = (s: string) => s.replace(/0+$/, '');
  if (decimalExponent < -4 || decimalExponent >= precision) {
    const frac = trim(d.slice(1));
    const e = Math.abs(decimalExponent).toString().padStart(2, '0');
    return `${d[0]}${frac ? `.${frac}` : ''}e${decimalExponent < 0 ? '-' : '+'}${e}`;
  }
  if (decimalExponent >= 0) {
    const frac = trim(d.slice(decimalExponent + 1));
    return d.slice(0, decimalExponent + 1) + (frac ? `.${frac}` : '');
  }
  const frac = trim('0'.repeat(-decimalExponent - 1) + d);
  return `0.${frac}`;
}

let bytecode: Promise<Uint8Array> | undefined;

/**
 * A genuine Lua 5.4 binary chunk (`string.dump(function() return 42 end)`) made by
 * wasmoon's own engine, which keeps string.dump; checked there to load and return 42.
 */
export function luaBytecode(): Promise<Uint8Array> {
  bytecode ??= (async () => {
    const { LuaFactory } = await import('wasmoon');
    const engine = await new LuaFactory().createEngine();
    try {
      const check = await engine.doString('return load(string.dump(function() return 42 end), "=dumped", "b")()') as number;
      if (check !== 42) throw new Error(`wasmoon's own load of the dump returned ${check}`);
      const bytes = await engine.doString('return { string.byte(string.dump(function() return 42 end), 1, -1) }') as number[];
      return Uint8Array.from(bytes);
    } finally {
      engine.global.close();
    }
  })();
  return bytecode;
}

/**
 * Calls `entry` at every depth from the JS stack limit up: each level of recursion tries it
 * once on its way back. Returns the values seen and the exceptions that escaped from inside
 * the kernel's code. (At the deepest levels the call itself cannot be made: V8 throws before
 * the callee's first line, and no callee can catch that; those throws name no kernel frame.)
 */
export function atEveryDepth<T>(entry: () => T): { values: T[]; escaped: string[] } {
  const values: T[] = [];
  const escaped: string[] = [];
  const descend = (): void => {
    try {
      descend();
    } catch {
      // the bottom: the stack is full here
    }
    try {
      values.push(entry());
    } catch (e) {
      const stack = e instanceof Error ? e.stack ?? '' : '';
      if (/[\\/]src[\\/](sandbox|bindings|memory)[\\/]|[\\/]wasm[\\/]/.test(stack)) escaped.push(stack);
    }
  };
  descend();
  return { values, escaped };
}
