/*
 * Slots in the image's indirect function table for host functions.
 *
 * Invariant: a slot index handed out is either live (holds the caller's function) or on
 * the free list (holds null); `release` puts it back so loading and unloading modules
 * forever does not grow the table.
 */
import { wasmFunction, type HostFunction, type Signature } from './trampoline.js';

export class FunctionTable {
  private readonly free: number[] = [];
  private live = 0;

  constructor(private readonly table: WebAssembly.Table) {}

  /** Installs `fn` with signature `sig`; returns its function pointer. */
  install(sig: Signature, fn: HostFunction): number {
    const fnRef = wasmFunction(sig, fn);
    const slot = this.free.pop() ?? this.table.grow(1);
    this.table.set(slot, fnRef);
    this.live++;
    return slot;
  }

  release(slot: number): void {
    this.table.set(slot, null);
    this.free.push(slot);
    this.live--;
  }

  /** Host-function slots in use; a leak check compares it before and after. */
  get liveSlots(): number {
    return this.live;
  }

  /** Total table length, which must stop growing once slots are recycled. */
  get length(): number {
    return this.table.length;
  }
}
