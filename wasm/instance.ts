/*
 * One running copy of the Lua image: its memory, its exported C API and its function
 * table. Instances share nothing, so discarding one (after a panic or a hard kill) gives
 * every byte back and cannot disturb another kernel.
 */
import type { LuaApi } from './lua-api.js';
import { FunctionTable } from './function-table.js';
import { loadImage } from './image.js';
import { buildSyscallTable, type ImageLink, type SyscallHost } from './syscall-table.js';

const encoder = new TextEncoder();

/** The most fuel one slice can hold (units are exact in doubles up to 2^53). */
export const UNLIMITED_FUEL = 2 ** 53;

export class LuaImage {
  readonly api: LuaApi;
  readonly functions: FunctionTable;
  // A Buffer (a Uint8Array) so strings can be encoded into it with write(), allocating nothing.
  private u8View: Buffer;
  private i32View: Int32Array;
  private f64View: Float64Array;
  private readonly cstrings = new Map<string, number>();
  /**
   * Largest block asked of the image's own malloc. The kernel lowers it once its pool sits
   * above the image's heap: that heap must never outgrow the room it has (src/sandbox/machine.ts).
   */
  maxHeapRequest = Infinity;

  private constructor(api: LuaApi) {
    this.api = api;
    this.functions = new FunctionTable(api.__indirect_function_table);
    this.u8View = Buffer.from(api.memory.buffer);
    this.i32View = new Int32Array(api.memory.buffer);
    this.f64View = new Float64Array(api.memory.buffer);
  }

  /** A new instance of `module` (default: this process's checked image) behind our syscall table. */
  static instantiate(host: SyscallHost, module: WebAssembly.Module = loadImage()): LuaImage {
    let link: ImageLink | undefined;
    const imports = buildSyscallTable(host, () => link!);
    const instance = new WebAssembly.Instance(module, imports);
    const api = instance.exports as unknown as LuaApi;
    link = {
      memory: api.memory,
      table: api.__indirect_function_table,
      stackSave: api.stackSave,
      stackRestore: api.stackRestore,
      setThrew: api.setThrew,
    };
    if (api.memory.buffer.byteLength > host.maxMemoryBytes) {
      throw new RangeError(
        `the image starts with ${api.memory.buffer.byteLength} bytes of memory, above the maximum of ${host.maxMemoryBytes}`,
      );
    }
    api.emscripten_stack_init();
    api.__wasm_call_ctors();
    // Until a kernel arms its budget (src/sandbox/budget.ts), the image's fuel is unlimited.
    api.lunatik_fuelstart(UNLIMITED_FUEL);
    return new LuaImage(api);
  }

  /** Byte view of the whole memory; re-created when the memory has grown (growth detaches old views). */
  get u8(): Buffer {
    if (this.u8View.byteLength === 0) this.refreshViews();
    return this.u8View;
  }

  get i32(): Int32Array {
    if (this.i32View.byteLength === 0) this.refreshViews();
    return this.i32View;
  }

  get f64(): Float64Array {
    if (this.f64View.byteLength === 0) this.refreshViews();
    return this.f64View;
  }

  get memoryBytes(): number {
    return this.api.memory.buffer.byteLength;
  }

  private refreshViews(): void {
    const { buffer } = this.api.memory;
    this.u8View = Buffer.from(buffer);
    this.i32View = new Int32Array(buffer);
    this.f64View = new Float64Array(buffer);
  }

  /** A NUL-terminated copy of `s` that lives as long as the instance (names, modes, keys). */
  cstring(s: string): number {
    let ptr = this.cstrings.get(s);
    if (ptr === undefined) {
      ptr = this.newCString(s);
      if (ptr === 0) throw new RangeError('the Lua image is out of memory for a static string');
      this.cstrings.set(s, ptr);
    }
    return ptr;
  }

  /**
   * `s` as a C string that lives only while `use` runs, for strings a caller chooses (chunk
   * names): cstring() keeps every string it is given for the life of the image. Returns
   * `outOfMemory` if the image cannot hold it.
   */
  withCString<T>(s: string, outOfMemory: T, use: (ptr: number) => T): T {
    const ptr = this.newCString(s);
    if (ptr === 0) return outOfMemory;
    try {
      return use(ptr);
    } finally {
      this.api.free(ptr);
    }
  }

  private newCString(s: string): number {
    const bytes = encoder.encode(s);
    if (bytes.length >= this.maxHeapRequest) return 0;
    const ptr = this.api.malloc(bytes.length + 1);
    if (ptr === 0) return 0;
    const heap = this.u8;
    heap.set(bytes, ptr);
    heap[ptr + bytes.length] = 0;
    return ptr;
  }

  /** Bytes of a NUL-terminated C string. */
  readCString(ptr: number): string {
    const heap = this.u8;
    let end = ptr;
    while (heap[end] !== 0) end++;
    return decoder.decode(heap.subarray(ptr, end));
  }
}

const decoder = new TextDecoder();
