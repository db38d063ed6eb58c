// Renders the ratios to native as a hand-written SVG bar chart (bench/results/compare.svg):
// one group of horizontal bars per workload, log-scale x axis, bars growing from the 1x line
// (native lua5.4), so faster-than-native bars grow left and slower ones right.
import type { EngineName } from '../engines/index.js';
import type { Report } from './report.js';

const COLORS: Record<EngineName, string> = {
  native: '#555555',
  lunatik: '#1f77b4',
  'lunatik-budget': '#6baed6',
  'lunatik-thread': '#2ca02c',
  wasmoon: '#ff7f0e',
  fengari: '#d62728',
  'lunatik-baseline': '#9467bd',
  'lunatik-optimized': '#17becf',
  'lunatik-other': '#bcbd22',
};

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
const fmt = (x: number) => `${x >= 10 ? x.toFixed(1) : x.toFixed(2)}x`;

/** 1-2-5 ticks covering [lo, hi]. */
function ticks(lo: number, hi: number): number[] {
  const out: number[] = [];
  for (let p = Math.floor(Math.log10(lo)); p <= Math.ceil(Math.log10(hi)); p++) {
    for (const m of [1, 2, 5]) {
      const t = m * 10 ** p;
      if (t >= lo * 0.999 && t <= hi * 1.001) out.push(Number(t.toPrecision(1)));
    }
  }
  return out;
}

export function renderSvg(r: Report): string {
  const engines = r.engines.filter((e) => e.status === 'ok' && e.name !== 'native' && e.ratioCount > 0);
  const groups = [
    ...r.workloads.map((w) => ({
      label: w.label,
      bars: engines.map((e) => {
        const c = r.cells.find((x) => x.engine === e.name && x.workload === w.name);
        return { engine: e.name, ratio: c?.ratio, bad: c?.matches === false || c?.stable === false };
      }),
    })),
    { label: 'geometric mean', bars: engines.map((e) => ({ engine: e.name, ratio: e.geomean, bad: false })) },
  ];
  const all = groups.flatMap((g) => g.bars.flatMap((b) => (b.ratio === undefined ? [] : [b.ratio])));
  const pick = (x: number, up: boolean) => {
    const t = ticks(1e-3, 1e4);
    return up ? t.find((v) => v >= x) ?? x : [...t].reverse().find((v) => v <= x) ?? x;
  };
  const lo = pick(Math.min(0.5, ...all), false);
  const hi = pick(Math.max(2, ...all) * 1.05, true);

  const left = 170, right = 70, width = 900, plotW = width - left - right;
  const barH = 14, barGap = 3, groupGap = 16, top = 78;
  const groupH = Math.max(1, engines.length) * (barH + barGap) + groupGap;
  const height = top + groups.length * groupH + 40;
  const x = (v: number) => left + ((Math.log10(v) - Math.log10(lo)) / (Math.log10(hi) - Math.log10(lo))) * plotW;
  const plotBottom = top + groups.length * groupH - groupGap / 2;

  const s: string[] = [];
  s.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="Helvetica, Arial, sans-serif" font-size="12">`);
  s.push(`<rect width="100%" height="100%" fill="#ffffff"/>`);
  s.push(`<text x="${left}" y="22" font-size="16" font-weight="bold">Time relative to native lua5.4 (log scale, lower is better)</text>`);
  s.push(`<text x="${left}" y="40" fill="#555">median of ${r.runs}, each run in a fresh process${r.quick ? ' (quick run: tiny inputs)' : ''}</text>`);
  engines.forEach((e, i) => {
    const lx = left + i * 140;
    s.push(`<rect x="${lx}" y="50" width="12" height="12" fill="${COLORS[e.name]}"/>`);
    s.push(`<text x="${lx + 16}" y="60">${esc(e.name)}</text>`);
  });
  for (const t of ticks(lo, hi)) {
    s.push(`<line x1="${x(t).toFixed(1)}" y1="${top - 6}" x2="${x(t).toFixed(1)}" y2="${plotBottom}" stroke="${t === 1 ? '#000' : '#ddd'}" stroke-width="${t === 1 ? 1.5 : 1}"/>`);
    s.push(`<text x="${x(t).toFixed(1)}" y="${plotBottom + 16}" text-anchor="middle" fill="#333">${t}x</text>`);
  }
  s.push(`<text x="${x(1).toFixed(1)}" y="${plotBottom + 30}" text-anchor="middle" fill="#000">native</text>`);
  groups.forEach((g, gi) => {
    const gy = top + gi * groupH;
    const bold = gi === groups.length - 1 ? ' font-weight="bold"' : '';
    s.push(`<text x="${left - 8}" y="${gy + (engines.length * (barH + barGap)) / 2 + 4}" text-anchor="end"${bold}>${esc(g.label)}</text>`);
    g.bars.forEach((b, bi) => {
      if (b.ratio === undefined) return;
      const y = gy + bi * (barH + barGap);
      const x0 = x(1), x1 = x(b.ratio);
      s.push(`<rect x="${Math.min(x0, x1).toFixed(1)}" y="${y}" width="${Math.max(1, Math.abs(x1 - x0)).toFixed(1)}" height="${barH}" fill="${COLORS[b.engine]}"><title>${esc(b.engine)}: ${fmt(b.ratio)}</title></rect>`);
      s.push(`<text x="${(Math.max(x0, x1) + 4).toFixed(1)}" y="${y + barH - 3}" font-size="11"${b.bad ? ' fill="#d00" font-weight="bold"' : ''}>${fmt(b.ratio)}${b.bad ? ' mismatch' : ''}</text>`);
    });
  });
  s.push('</svg>');
  return s.join('\n') + '\n';
}
