/*
 * How the Lua image is compiled, and why.
 *
 * The image's interpreter loop, luaV_execute, is entered once per script and Lua-to-Lua
 * calls stay inside it. V8 has no on-stack replacement for WebAssembly: a function
 * already running on baseline (Liftoff) code stays on it until it returns, however hot it
 * gets. By default V8 compiles every function with Liftoff first and re-compiles hot ones
 * with TurboFan in the background, so the first long script of a process ran on Liftoff
 * to its end: 2 to 4 times slower than the same script run a second time.
 *
 * Strategies (measured on a 2-core machine, first run in a fresh process: `node
 * dist/bench/compare/run.js --engines native,lunatik,lunatik-baseline,lunatik-optimized
 * --out bench/results/compile-strategies`, and issue 6):
 *
 * - `hinted` (default): the image gets a `compilationHints` custom section (V8's
 *   prototype of compilation hints: one byte per function, strategy and tiers) that asks
 *   for luaV_execute to be compiled by TurboFan directly, on its first call (~30 ms, once
 *   per process; compile-prime.ts makes that call at image load, so no script pays it).
 *   Every other function keeps V8's defaults (lazy Liftoff, then tier-up in the
 *   background: they return often, so they pick up optimized code as soon as it exists).
 *   V8 reads the section only when `--experimental-wasm-compilation-hints` is on; the flag
 *   is turned on just for the synchronous `new WebAssembly.Module()` of the image and
 *   turned off again right after. V8 records the enabled features in the compiled module,
 *   so the image keeps its hints, and no other module of the host process is affected
 *   (a module without that section would not be either). First runs are then as fast as
 *   warm ones. Used on V8 11 (Node 20), where it was measured; elsewhere it falls back to
 *   `baseline` until measured there (V8 12 still has the section; later V8 versions
 *   reuse the flag for a different proposal).
 * - `optimized`: the whole image compiled eagerly by TurboFan (`--no-liftoff
 *   --no-wasm-lazy-compilation` around the compile, restored after). Same run speed as
 *   `hinted`, but ~270 ms of CPU (on all cores) before the first kernel boots, for code
 *   that mostly never runs.
 * - `baseline`: V8's defaults, no flag touched. First runs of long scripts are slow.
 *
 * Rejected (measured): `--no-liftoff` for the whole process (lazy TurboFan for every
 * function: the same run speed as `hinted`, but it changes every other Wasm module of the
 * host, and the first boot compiles ~200 functions with TurboFan on the main thread);
 * a warm-up loop at compile time (tier-up of luaV_execute happens in the background,
 * ~30 ms later: a script that starts before it finishes still runs on Liftoff, and
 * nothing tells when it has finished); a lower `--wasm-tiering-budget` (it only
 * triggers the tier-up sooner: the call already running stays on Liftoff).
 *
 * Compiled code is shared everywhere in the process: every kernel instantiates the one
 * Module (wasm/image.ts), worker threads receive it through postMessage (adoptImage), and
 * V8 shares the code of one Module across all its instances and isolates, including the
 * TurboFan code of luaV_execute, whichever thread compiled it first. V8 in Node 20 offers
 * no way to keep compiled Wasm code across processes.
 */
import { setFlagsFromString } from 'node:v8';

export type CompileStrategy = 'hinted' | 'optimized' | 'baseline';

export const COMPILE_STRATEGIES: readonly CompileStrategy[] = ['hinted', 'optimized', 'baseline'];

export function isCompileStrategy(s: unknown): s is CompileStrategy {
  return typeof s === 'string' && (COMPILE_STRATEGIES as readonly string[]).includes(s);
}

/** What compileImage did. */
export interface CompileInfo {
  /** The strategy asked for. */
  requested: CompileStrategy;
  /** The strategy actually used (`baseline` when the requested one is not available here). */
  strategy: CompileStrategy;
  /** Wall time of the synchronous compile, in milliseconds. */
  compileMs: number;
  /** Wall time of priming (compile-prime.ts), when the image was primed. */
  primeMs?: number;
  /** Function indices hinted for TurboFan (`hinted` only). */
  hinted: number[];
  /** Why the requested strategy was not used, if it was not. */
  note?: string;
}

/**
 * The interpreter loop, found by name in the image's name section (the build keeps
 * function names: --profiling-funcs); an image without it gets no hint.
 */
export const LUAV_EXECUTE = 'luaV_execute';

// Compilation hint byte (V8's encoding): bits 0-1 strategy, 2-3 baseline tier, 4-5 top
// tier; tier 2 = optimized (TurboFan), strategy 0 = default.
const HINT_DEFAULT = 0;
const HINT_OPTIMIZED = (2 << 2) | (2 << 4);

const SECTION_CUSTOM = 0;
const SECTION_IMPORT = 2;
const SECTION_FUNCTION = 3;
const SECTION_CODE = 10;

interface ModuleLayout {
  importedFunctions: number;
  declaredFunctions: number;
  /** Byte offset of the code section's id byte. */
  codeSection: number;
  /** Body size of each declared function, by declared index. */
  bodySizes: number[];
  /** Function names from the name section, by function index. */
  names: Map<number, string>;
}

class Reader {
  constructor(
    readonly bytes: Uint8Array,
    public pos = 0,
  ) {}

  u8(): number {
    if (this.pos >= this.bytes.length) throw new RangeError('truncated Wasm module');
    return this.bytes[this.pos++]!;
  }

  u32(): number {
    let result = 0;
    for (let shift = 0; shift < 35; shift += 7) {
      const b = this.u8();
      result += (b & 0x7f) * 2 ** shift;
      if ((b & 0x80) === 0) return result;
    }
    throw new RangeError('bad LEB128 in Wasm module');
  }

  skip(n: number): void {
    this.pos += n;
    if (this.pos > this.bytes.length) throw new RangeError('truncated Wasm module');
  }

  limits(): void {
    const flags = this.u8();
    this.u32();
    if (flags & 1) this.u32();
  }
}

/** Reads what adding compilation hints needs: function counts, body sizes, where code starts. */
export function moduleLayout(bytes: Uint8Array): ModuleLayout {
  const r = new Reader(bytes, 8);
  const layout: ModuleLayout = { importedFunctions: 0, declaredFunctions: 0, codeSection: -1, bodySizes: [], names: new Map() };
  while (r.pos < bytes.length) {
    const sectionStart = r.pos;
    const id = r.u8();
    const size = r.u32();
    const end = r.pos + size;
    if (id === SECTION_IMPORT) {
      for (let n = r.u32(); n > 0; n--) {
        r.skip(r.u32());
        r.skip(r.u32());
        const kind = r.u8();
        if (kind === 0) {
          r.u32();
          layout.importedFunctions++;
        } else if (kind === 1) {
          r.u8();
          r.limits();
        } else if (kind === 2) r.limits();
        else if (kind === 3) r.skip(2);
        else throw new RangeError(`unknown import kind ${kind}`);
      }
    } else if (id === SECTION_FUNCTION) {
      layout.declaredFunctions = r.u32();
    } else if (id === SECTION_CUSTOM) {
      const nameLength = r.u32();
      const name = new TextDecoder().decode(bytes.subarray(r.pos, r.pos + nameLength));
      r.skip(nameLength);
      if (name === 'name') readFunctionNames(r, end, layout.names);
    } else if (id === SECTION_CODE) {
      layout.codeSection = sectionStart;
      for (let n = r.u32(); n > 0; n--) {
        const bodySize = r.u32();
        layout.bodySizes.push(bodySize);
        r.skip(bodySize);
      }
    }
    r.pos = end;
  }
  return layout;
}

/** The function-names subsection (id 1) of a name section ending at `end`. */
function readFunctionNames(r: Reader, end: number, names: Map<number, string>): void {
  const decoder = new TextDecoder();
  while (r.pos < end) {
    const subsection = r.u8();
    const size = r.u32();
    const next = r.pos + size;
    if (subsection === 1) {
      for (let n = r.u32(); n > 0; n--) {
        const index = r.u32();
        const length = r.u32();
        names.set(index, decoder.decode(r.bytes.subarray(r.pos, r.pos + length)));
        r.skip(length);
      }
    }
    r.pos = next;
  }
}

function leb128(n: number): number[] {
  const out: number[] = [];
  do {
    let b = n & 0x7f;
    n = Math.floor(n / 128);
    if (n > 0) b |= 0x80;
    out.push(b);
  } while (n > 0);
  return out;
}

/**
 * A copy of `bytes` with a `compilationHints` custom section asking for TurboFan as the
 * first tier of the given functions. V8 wants the section after the function section and
 * before the code section, with one hint byte per declared function.
 */
export function withCompilationHints(
  bytes: Uint8Array,
  optimized: readonly number[],
  layout = moduleLayout(bytes),
): Uint8Array<ArrayBuffer> {
  if (layout.codeSection < 0) throw new RangeError('the module has no code section');
  const hints = new Uint8Array(layout.declaredFunctions).fill(HINT_DEFAULT);
  for (const index of optimized) {
    const declared = index - layout.importedFunctions;
    if (declared < 0 || declared >= layout.declaredFunctions) throw new RangeError(`function ${index} is not declared in the module`);
    hints[declared] = HINT_OPTIMIZED;
  }
  const name = new TextEncoder().encode('compilationHints');
  const payload = [...leb128(name.length), ...name, ...leb128(hints.length), ...hints];
  const section = Uint8Array.from([0, ...leb128(payload.length), ...payload]);
  const out = new Uint8Array(bytes.length + section.length);
  out.set(bytes.subarray(0, layout.codeSection), 0);
  out.set(section, layout.codeSection);
  out.set(bytes.subarray(layout.codeSection), layout.codeSection + section.length);
  return out;
}

/** The functions worth TurboFan from their first call: luaV_execute, if the name section names it. */
export function hotFunctions(layout: ModuleLayout): number[] {
  for (const [index, name] of layout.names) {
    if (name === LUAV_EXECUTE && index >= layout.importedFunctions) return [index];
  }
  return [];
}

const V8_MAJOR = Number(process.versions.v8.split('.')[0]);

/** V8 versions on which the `compilationHints` section was measured to work as used here. */
export function hintsSupported(v8Major = V8_MAJOR): boolean {
  return v8Major === 11;
}

/** Whether the user set this V8 flag (either polarity) on the command line or in NODE_OPTIONS. */
function userSetFlag(name: string): boolean {
  const norm = (s: string) => s.replace(/_/g, '-');
  const bare = norm(name);
  const given = [...process.execArgv, ...(process.env['NODE_OPTIONS'] ?? '').split(/\s+/)].map(norm);
  return given.some((a) => a === `--${bare}` || a === `--no-${bare}` || a.startsWith(`--${bare}=`));
}

/**
 * Runs `fn` with boolean V8 flags set, then sets them back to V8's defaults (the values
 * this code assumes the process had). A flag the user set explicitly is left alone: their
 * choice wins over ours, before and after.
 */
function withV8Flags<T>(flags: Record<string, boolean>, fn: () => T): T {
  const ours = Object.entries(flags).filter(([name]) => !userSetFlag(name));
  for (const [name, on] of ours) setFlagsFromString(`--${on ? '' : 'no-'}${name}`);
  try {
    return fn();
  } finally {
    for (const [name, on] of ours) setFlagsFromString(`--${on ? 'no-' : ''}${name}`);
  }
}

/** Compiles the image's bytes with the given strategy; see the top of this file. */
export function compileImage(bytes: Uint8Array<ArrayBuffer>, requested: CompileStrategy): { module: WebAssembly.Module; info: CompileInfo } {
  const t0 = performance.now();
  const done = (module: WebAssembly.Module, strategy: CompileStrategy, hinted: number[], note?: string) => ({
    module,
    info: { requested, strategy, compileMs: performance.now() - t0, hinted, ...(note === undefined ? {} : { note }) },
  });
  if (requested === 'hinted') {
    if (!hintsSupported()) {
      return done(new WebAssembly.Module(bytes), 'baseline', [], `compilation hints are not used on V8 ${process.versions.v8}`);
    }
    const layout = moduleLayout(bytes);
    const hot = hotFunctions(layout);
    if (hot.length === 0) {
      return done(new WebAssembly.Module(bytes), 'baseline', [], 'luaV_execute is not named in this image');
    }
    const hintedBytes = withCompilationHints(bytes, hot, layout);
    const module = withV8Flags({ 'experimental-wasm-compilation-hints': true }, () => new WebAssembly.Module(hintedBytes));
    return done(module, 'hinted', hot);
  }
  if (requested === 'optimized') {
    const module = withV8Flags({ liftoff: false, 'wasm-lazy-compilation': false }, () => new WebAssembly.Module(bytes));
    return done(module, 'optimized', []);
  }
  return done(new WebAssembly.Module(bytes), 'baseline', []);
}
