/*
 * The simulation as a hand-written SVG (examples/layouts/layouts.svg): left, each layout's
 * bytes per device relative to the mean (1 = perfect balance); right, the fraction of data
 * that moves to another device when one device of the table is removed, against 1/n.
 */
import type { SimulationResult } from './simulate.js';

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
const pct = (x: number) => `${(x * 100).toFixed(1)} %`;
const COLORS = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd'];

export function renderSvg(r: SimulationResult): string {
  const width = 1000, rowH = 70, top = 64, labelW = 230;
  const balW = 400, gap = 60, moveX = labelW + balW + gap, moveW = width - moveX - 70;
  const height = top + r.layouts.length * rowH + 56;
  const scaleMax = Math.max(1.25, ...r.layouts.flatMap((l) => {
    const mean = l.bytes.reduce((a, b) => a + b, 0) / l.bytes.length;
    return l.bytes.map((b) => b / mean);
  }));
  const s: string[] = [];
  s.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`);
  s.push(`<rect width="${width}" height="${height}" fill="white"/>`);
  s.push(`<text x="${width / 2}" y="20" text-anchor="middle" font-size="15" font-weight="bold">${esc(`Scripted layouts: ${r.ios.toLocaleString('en')} I/Os of a mixed workload over a ${r.fileSize / 2 ** 40} TiB file on ${r.devices} devices`)}</text>`);
  s.push(`<text x="${labelW + balW / 2}" y="46" text-anchor="middle" font-weight="bold">bytes per device ÷ mean (dashed: 1 = even)</text>`);
  s.push(`<text x="${moveX + moveW / 2}" y="46" text-anchor="middle" font-weight="bold">${esc(`data moved when device ${r.removed} is removed (dashed: 1/${r.devices})`)}</text>`);

  r.layouts.forEach((l, row) => {
    const y0 = top + row * rowH, h = rowH - 18, color = COLORS[row % COLORS.length]!;
    const mean = l.bytes.reduce((a, b) => a + b, 0) / l.bytes.length;
    const rel = l.bytes.map((b) => b / mean);
    s.push(`<text x="${labelW - 10}" y="${y0 + h / 2}" text-anchor="end">${esc(l.label)}</text>`);
    s.push(`<text x="${labelW - 10}" y="${y0 + h / 2 + 15}" text-anchor="end" fill="#555">max/mean ${Math.max(...rel).toFixed(3)}</text>`);
    // Balance: one bar per device, growing up from the row's base line.
    const barW = balW / rel.length;
    const yOf = (v: number) => y0 + h - (v / scaleMax) * h;
    rel.forEach((v, i) => {
      s.push(`<rect x="${(labelW + i * barW + 1).toFixed(1)}" y="${yOf(v).toFixed(1)}" width="${(barW - 2).toFixed(1)}" height="${(y0 + h - yOf(v)).toFixed(1)}" fill="${color}"><title>device ${i}: ${v.toFixed(3)} x mean</title></rect>`);
    });
    s.push(`<line x1="${labelW}" x2="${labelW + balW}" y1="${y0 + h}" y2="${y0 + h}" stroke="#333"/>`);
    s.push(`<line x1="${labelW}" x2="${labelW + balW}" y1="${yOf(1).toFixed(1)}" y2="${yOf(1).toFixed(1)}" stroke="#333" stroke-dasharray="4 3"/>`);
    // Movement: one horizontal bar, 0..100 %.
    const bw = l.moved * moveW;
    s.push(`<rect x="${moveX}" y="${y0 + h / 2 - 10}" width="${bw.toFixed(1)}" height="20" fill="${color}"/>`);
    s.push(`<text x="${(moveX + bw + 6).toFixed(1)}" y="${y0 + h / 2 + 4}">${pct(l.moved)}</text>`);
  });
  const yEnd = top + r.layouts.length * rowH - 18;
  const ideal = moveX + moveW / r.devices;
  s.push(`<line x1="${moveX}" x2="${moveX}" y1="${top - 6}" y2="${yEnd}" stroke="#333"/>`);
  s.push(`<line x1="${ideal.toFixed(1)}" x2="${ideal.toFixed(1)}" y1="${top - 6}" y2="${yEnd}" stroke="#333" stroke-dasharray="4 3"/>`);
  for (const t of [0, 0.25, 0.5, 0.75, 1]) {
    s.push(`<text x="${(moveX + t * moveW).toFixed(1)}" y="${yEnd + 16}" text-anchor="middle" fill="#555">${t * 100} %</text>`);
  }
  s.push(`<text x="${width / 2}" y="${height - 10}" text-anchor="middle" fill="#555">${esc('mirrors and parity count in the bytes per device; movement counts every copy of a byte whose device changes')}</text>`);
  s.push('</svg>');
  return `${s.join('\n')}\n`;
}
