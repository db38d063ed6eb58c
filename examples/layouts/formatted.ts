/*
 * A layout called the way one must without the value bridge: parameters, device table and
 * every (offset, length) written into Lua source for sysLua, the answer encoded as text and
 * parsed back. Each new request is a new chunk to compile. The bench's baseline for
 * LayoutEngine; the engine itself never builds source from values.
 */
import type { Kernel } from '../../src/index.js';
import { checkAnswer } from './answer.js';
import { luaLiteral } from './lua-literal.js';
import type { Device, LayoutParams, LayoutShape, Resolution } from './types.js';

// Integers joined by ',', lists by ';'.
const ENCODER = `formatted_layouts = formatted_layouts or {}
function formatted_encode(...)
  local lists = table.pack(...)
  for i = 1, lists.n do lists[i] = table.concat(lists[i], ',') end
  return table.concat(lists, ';', 1, lists.n)
end`;

let nextId = 0;

export class FormattedLayout {
  private readonly key: string;
  private readonly sizes: Map<number, number>;

  private constructor(private readonly kernel: Kernel, key: string, devices: readonly Device[], private readonly shape: LayoutShape) {
    this.key = key;
    this.sizes = new Map(devices.map((d) => [d.id, d.size]));
  }

  /** Installs `script` with its parameters written into the source; throws if it fails. */
  static install(kernel: Kernel, script: string, params: LayoutParams, devices: readonly Device[]): FormattedLayout {
    const key = `f${nextId++}`;
    const r = kernel.exec(`${ENCODER}
      local resolve, info = (function() ${script}\nend)()(${luaLiteral(params)}, ${luaLiteral(devices)})
      formatted_layouts.${key} = resolve
      info = info or {}
      return (info.mirrors or 1) .. (info.parity and ' parity' or '')`);
    if (r.rc < 0) throw new Error(`installing a formatted layout: ${r.error}`);
    const [mirrors, parity] = r.value!.split(' ');
    return new FormattedLayout(kernel, key, devices, { mirrors: Number(mirrors), parity: parity !== undefined });
  }

  resolve(offset: number, length: number): Resolution {
    const r = this.kernel.exec(`return formatted_encode(formatted_layouts.${this.key}(${offset}, ${length}))`);
    if (r.rc < 0) return { rc: r.rc, error: r.error! };
    const values = r.value!.split(';').map((list) => (list === '' ? [] : list.split(',').map(Number)));
    return checkAnswer(values, this.shape, this.sizes, length);
  }
}
