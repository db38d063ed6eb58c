/*
 * The shipped image with the initial size of its memory patched down, for the density
 * bench only: wasmoon's glue.wasm starts with 16 MiB of memory, which V8 counts as external
 * memory for every instance however little of it is used, and that alone makes a process
 * of many kernels collect over and over. Issue 11's own image sets its initial memory when
 * it is linked; this stands in for it until then. Nothing else in the module changes.
 */
import { readFileSync } from 'node:fs';
import { adoptImage, imagePath } from '../../wasm/image.js';

/** Compiles the image with `pages` (64 KiB each) of initial memory and makes it this process's image. */
export function adoptSmallImage(pages: number): void {
  const bytes = new Uint8Array(readFileSync(imagePath()));
  let i = 8;
  const leb = (): number => {
    let value = 0;
    let shift = 0;
    let byte: number;
    do {
      byte = bytes[i++]!;
      value |= (byte & 127) << shift;
      shift += 7;
    } while (byte & 128);
    return value;
  };
  while (i < bytes.length) {
    const id = bytes[i++]!;
    const size = leb();
    const end = i + size;
    if (id === 5) {
      leb(); // memory count
      i++; // limits flags
      const at = i;
      leb(); // initial pages, rewritten in place in the same number of LEB bytes
      const length = i - at;
      if (length < 2 || pages >= 1 << 14) throw new Error('the memory section cannot be patched in place');
      bytes[at] = 0x80 | (pages & 127);
      for (let j = 1; j < length; j++) bytes[at + j] = (j === length - 1 ? 0 : 0x80) | (j === 1 ? pages >> 7 : 0);
      adoptImage(new WebAssembly.Module(bytes));
      return;
    }
    i = end;
  }
  throw new Error('the image has no memory section');
}
