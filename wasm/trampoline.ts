/*
 * Turns a JavaScript function into a Wasm function that can live in the image's
 * function table, so C code (lua_Alloc, lua_CFunction, lua_WarnFunction) can
 * call it through a function pointer.
 *
 * Node 20 has no `new WebAssembly.Function`, so for each signature we emit a tiny module
 * that imports the JS function and re-exports it: the export is a genuine Wasm function.
 * The module bytes are built by hand because they are ~40 bytes and fully determined by
 * the signature; a WAT toolchain would be a dependency for nothing.
 */

export type ValType = 'i32' | 'i64' | 'f64';
export interface Signature {
  readonly params: readonly ValType[];
  readonly results: readonly ValType[];
}

const VALTYPE_CODE: Record<ValType, number> = { i32: 0x7f, i64: 0x7e, f64: 0x7c };
const modules = new Map<string, WebAssembly.Module>();

function section(id: number, payload: number[]): number[] {
  return [id, ...uleb(payload.length), ...payload];
}

function uleb(n: number): number[] {
  const out: number[] = [];
  do {
    let byte = n & 0x7f;
    n >>>= 7;
    if (n !== 0) byte |= 0x80;
    out.push(byte);
  } while (n !== 0);
  return out;
}

function moduleFor(sig: Signature): WebAssembly.Module {
  const key = `${sig.params.join(',')}->${sig.results.join(',')}`;
  let module = modules.get(key);
  if (module === undefined) {
    const functype = [
      0x60,
      ...uleb(sig.params.length), ...sig.params.map((t) => VALTYPE_CODE[t]),
      ...uleb(sig.results.length), ...sig.results.map((t) => VALTYPE_CODE[t]),
    ];
    const bytes = [
      0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
      ...section(1, [1, ...functype]),
      ...section(2, [1, 1, 0x65, 1, 0x66, 0x00, 0x00]), // import "e" "f" (func (type 0))
      ...section(7, [1, 1, 0x66, 0x00, 0x00]), // export "f" (func 0)
    ];
    module = new WebAssembly.Module(new Uint8Array(bytes));
    modules.set(key, module);
  }
  return module;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type HostFunction = (...args: any[]) => any;

/** A Wasm function of signature `sig` that calls `fn`. */
export function wasmFunction(sig: Signature, fn: HostFunction): WebAssembly.ExportValue {
  const instance = new WebAssembly.Instance(moduleFor(sig), { e: { f: fn } });
  return instance.exports['f']!;
}

export const SIG_LUA_CFUNCTION: Signature = { params: ['i32'], results: ['i32'] };
export const SIG_LUA_WARNF: Signature = { params: ['i32', 'i32', 'i32'], results: [] };
