/*
 * The image's whole view of the world: the import object passed to glue.wasm.
 *
 * Nothing here touches the host. File, process and environment calls are denied with the
 * image's own errno values (Emscripten uses WASI's numbering, not Linux's), the clock reads
 * zero, fd_write to stdout/stderr goes to the kernel log, exit/abort raise an ImagePanic
 * (the kernel discards that instance), and heap growth stops at the kernel's maximum.
 * The only imports with real behaviour are the longjmp shim and heap growth.
 */

/** Emscripten (WASI) errno values, as the C library inside the image reads them. */
const IMAGE_EACCES = 2;
const IMAGE_EBADF = 8;
const IMAGE_ENOTTY = 59;
const IMAGE_EPERM = 63;

const WASM_PAGE = 65536;

/** The image called exit() or abort(), or Lua panicked: its state cannot be trusted again. */
export class ImagePanic extends Error {
  override name = 'ImagePanic';
}

/** What the syscall table needs from the instance it serves, bound after instantiation. */
export interface ImageLink {
  memory: WebAssembly.Memory;
  table: WebAssembly.Table;
  stackSave(): number;
  stackRestore(sp: number): void;
  setThrew(threw: number, value: number): void;
  errnoLocation(): number;
}

export interface SyscallHost {
  /** Bytes the image wrote to fd 1 or 2. */
  console(fd: 1 | 2, bytes: Uint8Array): void;
  /** Upper bound, in bytes, on the image's linear memory. */
  readonly maxMemoryBytes: number;
}

/**
 * Longjmp travels as this thrown value. Emscripten's own glue throws `Infinity`, which any
 * host function could throw too and so pass for a longjmp; an object only this module holds
 * cannot be forged.
 */
export const LONGJMP: object = Object.freeze({ longjmp: true });

export function buildSyscallTable(host: SyscallHost, link: () => ImageLink): WebAssembly.Imports {
  const denied = (errno: number) => () => -errno;
  const wasiDenied = (errno: number) => () => errno;

  const env = {
    // Lua's LUAI_TRY: setjmp is `invoke_vii(f, L, ud)`; a longjmp throws through Wasm
    // frames and is caught here, where setThrew makes the setjmp return non-zero.
    invoke_vii(fnIndex: number, a: number, b: number): void {
      const image = link();
      const sp = image.stackSave();
      try {
        (image.table.get(fnIndex) as (a: number, b: number) => void)(a, b);
      } catch (e) {
        image.stackRestore(sp);
        if (e !== LONGJMP) throw e;
        image.setThrew(1, 0);
      }
    },
    _emscripten_throw_longjmp(): never {
      throw LONGJMP;
    },
    emscripten_resize_heap(requestedBytes: number): number {
      const { memory } = link();
      const requested = requestedBytes >>> 0;
      const current = memory.buffer.byteLength;
      if (requested > host.maxMemoryBytes) return 0;
      // Grow by a quarter at least, as Emscripten does, so a growing heap is not O(n^2).
      const target = Math.min(host.maxMemoryBytes, Math.max(requested, Math.ceil(current * 1.25)));
      const pages = Math.ceil((target - current) / WASM_PAGE);
      try {
        memory.grow(pages);
        return 1;
      } catch {
        return 0;
      }
    },
    abort(): never {
      throw new ImagePanic('the Lua image called abort()');
    },
    exit(code: number): never {
      throw new ImagePanic(`the Lua image called exit(${code})`);
    },
    system(command: number): number {
      if (command === 0) return 0; // "no shell available"
      new Int32Array(link().memory.buffer)[link().errnoLocation() >> 2] = IMAGE_EPERM;
      return -1;
    },
    strftime: () => 0,
    emscripten_date_now: () => 0,
    _emscripten_get_now_is_monotonic: () => 1,
    _mktime_js: () => -1n,
    _localtime_js: () => undefined,
    _gmtime_js: () => undefined,
    _tzset_js: () => undefined,
    __syscall_openat: denied(IMAGE_EACCES),
    __syscall_fcntl64: denied(IMAGE_EBADF),
    __syscall_ioctl: denied(IMAGE_ENOTTY),
    __syscall_dup3: denied(IMAGE_EBADF),
    __syscall_unlinkat: denied(IMAGE_EACCES),
    __syscall_rmdir: denied(IMAGE_EACCES),
    __syscall_renameat: denied(IMAGE_EACCES),
    __syscall_readlinkat: denied(IMAGE_EACCES),
  };

  const wasi = {
    fd_write(fd: number, iovs: number, iovCount: number, writtenPtr: number): number {
      if (fd !== 1 && fd !== 2) return IMAGE_EBADF;
      const { buffer } = link().memory;
      const words = new Uint32Array(buffer);
      let written = 0;
      for (let i = 0; i < iovCount; i++) {
        const base = words[(iovs >> 2) + 2 * i]!;
        const len = words[(iovs >> 2) + 2 * i + 1]!;
        if (len > 0) host.console(fd, new Uint8Array(buffer, base, len).slice());
        written += len;
      }
      words[writtenPtr >> 2] = written;
      return 0;
    },
    fd_read: wasiDenied(IMAGE_EBADF),
    fd_close: wasiDenied(IMAGE_EBADF),
    fd_seek: wasiDenied(IMAGE_EBADF),
    environ_sizes_get: wasiDenied(IMAGE_EPERM),
    environ_get: wasiDenied(IMAGE_EPERM),
  };

  return { env, wasi_snapshot_preview1: wasi };
}
