/*
 * The kernel log: a ring buffer of records, read by dmesg.
 *
 * Invariants: `bytes` is the sum of the sizes of the live records and never exceeds
 * `capacity` after a write; records leave only from the oldest end, each counted in
 * `dropped`; `seq` increases by one per record ever written, so a reader can tell what
 * it missed. Sizes count the text's UTF-16 length plus a fixed header, as printk's
 * record header does, so the accounting costs no encoding.
 */

export const KERN_EMERG = 0;
export const KERN_ERR = 3;
export const KERN_WARNING = 4;
export const KERN_DEBUG = 7;
export const DEFAULT_MESSAGE_LEVEL = KERN_WARNING;

export interface LogRecord {
  readonly seq: number;
  readonly level: number;
  /** Seconds since the kernel booted (monotonic). */
  readonly time: number;
  readonly text: string;
}

const RECORD_HEADER_BYTES = 16;

/**
 * Where a script's print and warn output also goes as it is written (the CLI: stdout and
 * stderr). The log keeps its records either way. `warn` gets every message, control
 * messages (a message of one piece starting with '@': `@on`, `@off`) included, as a
 * lua_WarnFunction does.
 */
export interface ScriptConsole {
  print(text: string): void;
  warn(text: string, control: boolean): void;
}

export class KernelLog {
  private records: (LogRecord | undefined)[] = new Array(64);
  private head = 0;
  private count = 0;
  private bytes = 0;
  private nextSeq = 0;
  private droppedRecords = 0;
  private readonly bootTime = performance.now();
  /** Receives print and warn output as it happens; null: the log alone. */
  console: ScriptConsole | null = null;

  constructor(readonly capacity = 64 * 1024) {
    if (!Number.isSafeInteger(capacity) || capacity < 1024) {
      throw new RangeError(`log.capacity must be an integer of at least 1024 bytes, got ${String(capacity)}`);
    }
  }

  write(level: number, text: string): void {
    const size = RECORD_HEADER_BYTES + text.length;
    if (size > this.capacity) text = text.slice(0, this.capacity - RECORD_HEADER_BYTES);
    const record: LogRecord = { seq: this.nextSeq++, level, time: (performance.now() - this.bootTime) / 1000, text };
    this.bytes += RECORD_HEADER_BYTES + text.length;
    while (this.bytes > this.capacity) this.dropOldest();
    if (this.count === this.records.length) this.grow();
    this.records[(this.head + this.count) % this.records.length] = record;
    this.count++;
  }

  private dropOldest(): void {
    const oldest = this.records[this.head]!;
    this.records[this.head] = undefined;
    this.head = (this.head + 1) % this.records.length;
    this.count--;
    this.bytes -= RECORD_HEADER_BYTES + oldest.text.length;
    this.droppedRecords++;
  }

  private grow(): void {
    const bigger: (LogRecord | undefined)[] = new Array(this.records.length * 2);
    for (let i = 0; i < this.count; i++) bigger[i] = this.records[(this.head + i) % this.records.length];
    this.records = bigger;
    this.head = 0;
  }

  /** The records in the buffer, oldest first. */
  read(): LogRecord[] {
    const out: LogRecord[] = [];
    for (let i = 0; i < this.count; i++) out.push(this.records[(this.head + i) % this.records.length]!);
    return out;
  }

  /** Records pushed out by newer ones since boot. */
  get dropped(): number {
    return this.droppedRecords;
  }

  clear(): void {
    this.records = new Array(64);
    this.head = 0;
    this.count = 0;
    this.bytes = 0;
  }
}

/** `[    0.123456] text`, as dmesg prints a record. */
export function formatRecord(record: LogRecord): string {
  return `[${record.time.toFixed(6).padStart(12)}] ${record.text}`;
}

/**
 * Splits printk's optional leading `<N>` level (0..7) from the text, as KERN_* prefixes do.
 * Returns the level (DEFAULT_MESSAGE_LEVEL when absent) and the text without the prefix.
 */
export function parseLevel(text: string): [number, string] {
  if (text.length >= 3 && text.charCodeAt(0) === 60 /* < */ && text.charCodeAt(2) === 62 /* > */) {
    const digit = text.charCodeAt(1) - 48;
    if (digit >= KERN_EMERG && digit <= KERN_DEBUG) return [digit, text.slice(3)];
  }
  return [DEFAULT_MESSAGE_LEVEL, text];
}
