/*
 * The vocabulary of scripted layouts. A device table lists the data servers a file's layout
 * may use; layout parameters name devices by their 0-based position in that table (as
 * RFC 8881's stripe indices do), extents name them by id.
 */

export interface Device {
  /** Non-negative safe integer, unique in its table. */
  id: number;
  /** Bytes the device (the data server's file for this file) holds: extents must end within it. */
  size: number;
  /** Relative weight for pseudorandom placement (integer, default 1; 0 takes it out). */
  weight?: number;
}

/** One piece of a request: `length` bytes at `deviceOffset` of `device`, in file order. */
export interface Extent {
  device: number;
  deviceOffset: number;
  length: number;
}

export type LayoutParams = Record<string, unknown>;

/**
 * What a layout answers for (offset, length), before checking: one flat list of
 * (device, deviceOffset, length) triples per mirror, then, for a parity layout, the parity
 * extents. Flat because one array of integers crosses the boundary cheaper than a table per extent.
 */
export type FlatAnswer = unknown[];

/** The shape a layout declares when it is set up. */
export interface LayoutShape {
  /** Lists of data extents per answer, each covering the request once (default 1). */
  mirrors: number;
  /** Whether a list of parity extents follows the data lists. */
  parity: boolean;
}

export interface Resolution {
  /** 0, or a negative errno. */
  rc: number;
  /** One list per mirror, in file order: together each covers the request exactly once. */
  mirrors?: Extent[][];
  /** Parity extents, for a layout that has them. */
  parity?: Extent[];
  error?: string;
}
