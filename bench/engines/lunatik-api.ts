// Loads lunatik-wasm's public API at run time. The import path is computed so that tsc does
// not resolve it: the benchmark compiles (and the other engines run) even while src/ is
// still being written or does not export everything yet.
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ScriptError, Unavailable } from './types.js';

export interface ExecResult {
  rc: number;
  value?: string;
  error?: string;
}

/** What the adapters need from a kernel or a kernel thread. */
export interface Executor {
  exec?(code: string): ExecResult | Promise<ExecResult>;
  sysLua?(code: string, codeSz: number, result: Uint8Array | null, resultSz: number): number;
}

export interface KernelLike extends Executor {
  shutdown(): unknown;
}

export interface KernelThreadLike extends Executor {
  close(): unknown;
}

export interface LunatikApi {
  Kernel?: { boot(options?: object): KernelLike };
  KernelThread?: { spawn(options?: object): KernelThreadLike | Promise<KernelThreadLike> };
}

const INDEX_URL = new URL('../../src/index.js', import.meta.url).href;
const IMAGE_URL = new URL('../../wasm/image.js', import.meta.url).href;

/** The compile strategy the process's image got, if the image module says (wasm/compile.ts). */
export async function compileStrategy(): Promise<string | undefined> {
  try {
    const image = (await import(IMAGE_URL)) as { imageCompileInfo?: () => { strategy: string } | undefined };
    return image.imageCompileInfo?.()?.strategy;
  } catch {
    return undefined;
  }
}

/** Where 'lunatik-other' loads another build of lunatik-wasm from: a checkout with its dist/ built. */
export const OTHER_ENV = 'LUNATIK_OTHER';

/** This checkout's API, or (other = true) the one of the checkout named by LUNATIK_OTHER. */
export async function loadLunatik(other = false): Promise<LunatikApi> {
  let url = INDEX_URL;
  if (other) {
    const dir = process.env[OTHER_ENV];
    if (dir === undefined || dir === '') throw new Unavailable(`${OTHER_ENV} names no other checkout`);
    url = pathToFileURL(join(dir, 'dist', 'src', 'index.js')).href;
  }
  try {
    return (await import(url)) as LunatikApi;
  } catch (e) {
    throw new Unavailable(`cannot import ${url}: ${e instanceof Error ? e.message : e}`);
  }
}

/** Runs a create step (boot, spawn); any failure there means the engine is unavailable. */
export async function create<T>(what: string, make: () => T | Promise<T>): Promise<T> {
  try {
    return await make();
  } catch (e) {
    throw new Unavailable(`${what} failed: ${e instanceof Error ? e.message : e}`);
  }
}

// Big enough for every workload's checksum string.
const RESULT_SIZE = 4096;

/**
 * Runs code through `exec` (the convenient API) or, if only the stable syscall exists,
 * through `sysLua` with a result buffer. Returns the value; a negative rc is a ScriptError.
 */
export async function execute(target: Executor, code: string): Promise<string> {
  if (typeof target.exec === 'function') {
    const r = await target.exec(code);
    if (r.rc < 0) throw new ScriptError(`rc ${r.rc}: ${r.error ?? ''}`);
    return r.value ?? '';
  }
  if (typeof target.sysLua === 'function') {
    const out = new Uint8Array(RESULT_SIZE);
    const n = target.sysLua(code, Buffer.byteLength(code), out, out.length);
    const text = Buffer.from(out.subarray(0, Math.max(0, Math.min(n, out.length - 1)))).toString();
    if (n < 0) throw new ScriptError(`rc ${n}: ${Buffer.from(out).toString().split('\0')[0]}`);
    return text;
  }
  throw new Unavailable('the kernel has neither exec() nor sysLua()');
}
