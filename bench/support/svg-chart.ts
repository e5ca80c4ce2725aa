// A small log-log line chart as SVG, no dependencies: one panel per measure, one line per series, labelled axes.
export interface ChartSeries {
  name: string;
  color: string;
  points: Array<[number, number]>;
}

export interface ChartPanel {
  title: string;
  yLabel: string;
  series: ChartSeries[];
}

const W = 420;
const H = 300;
const M = { left: 64, right: 16, top: 36, bottom: 48 };

function decades(min: number, max: number): number[] {
  const out: number[] = [];
  for (let e = Math.floor(Math.log10(min)); e <= Math.ceil(Math.log10(max)); e++) out.push(10 ** e);
  return out;
}

const round = (v: number): number => Math.round(v * 10) / 10;

function short(v: number): string {
  if (v >= 1e6) return `${v / 1e6}M`;
  if (v >= 1e3) return `${v / 1e3}k`;
  return String(v);
}

function panel(p: ChartPanel, xLabel: string, offsetX: number): string {
  const all = p.series.flatMap((s) => s.points);
  const xs = decades(Math.min(...all.map((q) => q[0])), Math.max(...all.map((q) => q[0])));
  const ys = decades(Math.min(...all.map((q) => q[1])), Math.max(...all.map((q) => q[1])));
  const [x0, x1] = [Math.log10(xs[0] as number), Math.log10(xs[xs.length - 1] as number)];
  const [y0, y1] = [Math.log10(ys[0] as number), Math.log10(ys[ys.length - 1] as number)];
  const px = (x: number): number =>
    round(offsetX + M.left + ((Math.log10(x) - x0) / (x1 - x0 || 1)) * (W - M.left - M.right));
  const py = (y: number): number => round(M.top + (1 - (Math.log10(y) - y0) / (y1 - y0 || 1)) * (H - M.top - M.bottom));
  let out = `<text x="${offsetX + W / 2}" y="20" text-anchor="middle" font-weight="bold">${p.title}</text>\n`;
  for (const x of xs)
    out += `<line x1="${px(x)}" x2="${px(x)}" y1="${M.top}" y2="${H - M.bottom}" stroke="#ddd"/><text x="${px(x)}" y="${H - M.bottom + 16}" text-anchor="middle">${short(x)}</text>\n`;
  for (const y of ys)
    out += `<line x1="${offsetX + M.left}" x2="${offsetX + W - M.right}" y1="${py(y)}" y2="${py(y)}" stroke="#ddd"/><text x="${offsetX + M.left - 6}" y="${py(y) + 4}" text-anchor="end">${short(y)}</text>\n`;
  out += `<text x="${offsetX + W / 2}" y="${H - 8}" text-anchor="middle">${xLabel}</text>\n`;
  out += `<text transform="translate(${offsetX + 14},${H / 2}) rotate(-90)" text-anchor="middle">${p.yLabel}</text>\n`;
  p.series.forEach((s, i) => {
    const path = s.points.map(([x, y], j) => `${j === 0 ? 'M' : 'L'}${px(x).toFixed(1)},${py(y).toFixed(1)}`).join(' ');
    out += `<path d="${path}" fill="none" stroke="${s.color}" stroke-width="2"/>\n`;
    for (const [x, y] of s.points) out += `<circle cx="${px(x)}" cy="${py(y)}" r="3" fill="${s.color}"/>\n`;
    out += `<text x="${offsetX + M.left + 8}" y="${M.top + 14 + i * 16}" fill="${s.color}">${s.name}</text>\n`;
  });
  return out;
}

/** Panels side by side, sharing the x axis label. */
export function svgChart(panels: readonly ChartPanel[], xLabel: string): string {
  const width = W * panels.length;
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${H}" font-family="sans-serif" font-size="12">\n<rect width="${width}" height="${H}" fill="white"/>\n${panels.map((p, i) => panel(p, xLabel, i * W)).join('')}</svg>\n`;
}
