/* The fixed mappings by layout name. */
import type { LayoutName } from '../scripts.js';
import { crush } from './crush.js';
import { fileLayout } from './file-layout.js';
import { flexFiles } from './flex-files.js';
import type { MakeFixed } from './layout.js';
import { raid5 } from './raid5.js';
import { ring } from './ring.js';

export type { FixedLayout, MakeFixed } from './layout.js';

export const FIXED: Record<LayoutName, MakeFixed> = {
  'file-layout': fileLayout,
  'flex-files': flexFiles,
  raid5,
  crush,
  ring,
};
