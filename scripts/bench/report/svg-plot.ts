/** A hand-written SVG line chart: a few series over the step rates, each panel with its own y axis (log or linear). */
export interface Series {
  name: string;
  color: string;
  points: Array<[number, number | null]>;
  dashed?: boolean;
}

export interface Panel {
  title: string;
  yLabel: string;
  log: boolean;
  series: Series[];
}

const WIDTH = 460;
const HEIGHT = 345;
const M = { left: 60, right: 12, top: 28, bottom: 92 };

function escape(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

function niceTicks(min: number, max: number, log: boolean): number[] {
  if (log) {
    const ticks: number[] = [];
    for (let e = Math.floor(Math.log10(min)); e <= Math.ceil(Math.log10(max)); e += 1) ticks.push(10 ** e);
    return ticks;
  }
  const step = 10 ** Math.floor(Math.log10(Math.max(max - min, 1))) || 1;
  const ticks: number[] = [];
  for (let t = 0; t <= max + step / 2; t += step) ticks.push(t);
  return ticks;
}

function panelSvg(panel: Panel, offsetX: number): string {
  const xs = [...new Set(panel.series.flatMap((s) => s.points.map(([x]) => x)))].sort((a, b) => a - b);
  const ys = panel.series.flatMap((s) => s.points.map(([, y]) => y)).filter((y): y is number => y !== null && Number.isFinite(y) && (!panel.log || y > 0));
  const plotW = WIDTH - M.left - M.right;
  const plotH = HEIGHT - M.top - M.bottom;
  const out: string[] = [
    `<g transform="translate(${offsetX},0)">`,
    `<text x="${WIDTH / 2}" y="16" text-anchor="middle" font-weight="bold">${escape(panel.title)}</text>`,
  ];
  if (xs.length === 0 || ys.length === 0) {
    out.push(`<text x="${WIDTH / 2}" y="${HEIGHT / 2}" text-anchor="middle">no data</text></g>`);
    return out.join("\n");
  }
  const [xMin, xMax] = [xs[0]!, xs.at(-1)!];
  let [yMin, yMax] = [Math.min(...ys), Math.max(...ys)];
  if (panel.log) [yMin, yMax] = [10 ** Math.floor(Math.log10(yMin)), 10 ** Math.ceil(Math.log10(yMax))];
  else [yMin, yMax] = [0, yMax === 0 ? 1 : yMax * 1.1];
  if (yMin === yMax) yMax = yMin * 10;
  const x = (v: number) => M.left + (xMax === xMin ? plotW / 2 : ((v - xMin) / (xMax - xMin)) * plotW);
  const y = (v: number) =>
    M.top + plotH - (panel.log ? (Math.log10(v) - Math.log10(yMin)) / (Math.log10(yMax) - Math.log10(yMin)) : (v - yMin) / (yMax - yMin)) * plotH;
  out.push(`<rect x="${M.left}" y="${M.top}" width="${plotW}" height="${plotH}" fill="none" stroke="#999"/>`);
  for (const t of niceTicks(yMin, yMax, panel.log).filter((t) => t >= yMin && t <= yMax)) {
    out.push(`<line x1="${M.left}" x2="${M.left + plotW}" y1="${y(t).toFixed(1)}" y2="${y(t).toFixed(1)}" stroke="#eee"/>`);
    out.push(`<text x="${M.left - 4}" y="${(y(t) + 4).toFixed(1)}" text-anchor="end" font-size="10">${t}</text>`);
  }
  for (const v of xs) out.push(`<text x="${x(v).toFixed(1)}" y="${M.top + plotH + 14}" text-anchor="middle" font-size="10">${v}</text>`);
  out.push(`<text x="${M.left + plotW / 2}" y="${M.top + plotH + 30}" text-anchor="middle" font-size="11">offered rate (per second)</text>`);
  out.push(`<text transform="translate(14,${M.top + plotH / 2}) rotate(-90)" text-anchor="middle" font-size="11">${escape(panel.yLabel)}</text>`);
  panel.series.forEach((s, i) => {
    const pts = s.points.filter((p): p is [number, number] => p[1] !== null && Number.isFinite(p[1]) && (!panel.log || p[1] > 0));
    if (pts.length > 0) {
      out.push(
        `<polyline fill="none" stroke="${s.color}" stroke-width="2"${s.dashed ? ' stroke-dasharray="5,3"' : ""} points="${pts.map(([px, py]) => `${x(px).toFixed(1)},${y(py).toFixed(1)}`).join(" ")}"/>`,
      );
      for (const [px, py] of pts) out.push(`<circle cx="${x(px).toFixed(1)}" cy="${y(py).toFixed(1)}" r="3" fill="${s.color}"/>`);
    }
    const lx = M.left + (i % 2) * (plotW / 2);
    const ly = M.top + plotH + 46 + Math.floor(i / 2) * 13;
    out.push(
      `<line x1="${lx}" x2="${lx + 16}" y1="${ly - 4}" y2="${ly - 4}" stroke="${s.color}" stroke-width="2"${s.dashed ? ' stroke-dasharray="5,3"' : ""}/><text x="${lx + 20}" y="${ly}" font-size="10">${escape(s.name)}</text>`,
    );
  });
  out.push("</g>");
  return out.join("\n");
}

export function svgChart(panels: Panel[]): string {
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH * panels.length}" height="${HEIGHT}" font-family="sans-serif" font-size="12">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    ...panels.map((panel, i) => panelSvg(panel, i * WIDTH)),
    "</svg>",
  ].join("\n");
}
