/*
 * A fixed mapping: the TypeScript twin of a layout script, with the same shape and the same
 * flat answer, so the two can be compared answer for answer.
 */
import type { Device, LayoutParams, LayoutShape } from '../types.js';

export interface FixedLayout extends LayoutShape {
  /** The flat answer (see FlatAnswer); throws where the script raises an error. */
  resolve(offset: number, length: number): number[][];
}

export type MakeFixed = (params: LayoutParams, devices: readonly Device[]) => FixedLayout;
