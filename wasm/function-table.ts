/*
 * Slots in the image's indirect function table for host functions.
 *
 * Invariants: an anonymous slot is either live or on the free list (holding null), so
 * installing and releasing forever does not grow the table. A keyed slot (a module's
 * function) keeps its index for the life of the image: re-defining the key overwrites
 * it, and retiring it leaves a stub that raises a Lua error, because Lua values created
 * while the module was loaded (a buffer's metatable) may still point at that index.
 */
import { wasmFunction, type HostFunction, type Signature } from './trampoline.js';

export class FunctionTable {
  private readonly free: number[] = [];
  private readonly keyed = new Map<string, number>();
  private readonly anonymous = new Set<number>();

  constructor(private readonly table: WebAssembly.Table) {}

  /** Installs `fn` with signature `sig`; returns its function pointer. */
  install(sig: Signature, fn: HostFunction): number {
    return this.place(wasmFunction(sig, fn));
  }

  /** Installs a function that is already a Wasm function (a hand-written .wat hot path). */
  place(fnRef: WebAssembly.ExportValue): number {
    const slot = this.free.pop() ?? this.table.grow(1);
    this.table.set(slot, fnRef);
    this.anonymous.add(slot);
    return slot;
  }

  release(slot: number): void {
    if (!this.anonymous.delete(slot)) return;
    this.table.set(slot, null);
    this.free.push(slot);
  }

  /** Empties every host slot (for an instance that will serve another kernel); keyed slots keep their index for reuse. */
  clear(): void {
    for (const slot of this.anonymous) this.release(slot);
    for (const slot of this.keyed.values()) this.table.set(slot, null);
  }

  /** The slot for `key`, now holding `fnRef`; the same slot every time the key is defined. */
  define(key: string, fnRef: WebAssembly.ExportValue): number {
    const slot = this.keyed.get(key);
    if (slot === undefined) {
      const placed = this.free.pop() ?? this.table.grow(1);
      this.table.set(placed, fnRef);
      this.keyed.set(key, placed);
      return placed;
    }
    this.table.set(slot, fnRef);
    return slot;
  }

  /** Points the slot of `key` at `stub` (a function that raises "module removed"). */
  retire(key: string, stub: WebAssembly.ExportValue): void {
    const slot = this.keyed.get(key);
    if (slot !== undefined) this.table.set(slot, stub);
  }

  /** Host-function slots in use; a leak check compares it before and after. */
  get liveSlots(): number {
    return this.anonymous.size + this.keyed.size;
  }

  /** Total table length, which must stop growing once slots are recycled. */
  get length(): number {
    return this.table.length;
  }
}
