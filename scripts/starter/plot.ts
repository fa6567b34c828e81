// A small SVG line plot of the held-out loss by step, for the model card (no chart library needed
// for one static line; the dashboard uses uplot).
export function lossPlotSvg(points: { step: number; loss: number }[], width = 560, height = 280): string {
  const pad = { left: 48, right: 16, top: 16, bottom: 36 };
  const w = width - pad.left - pad.right;
  const h = height - pad.top - pad.bottom;
  const maxStep = Math.max(1, ...points.map((p) => p.step));
  const losses = points.map((p) => p.loss);
  const lo = Math.floor(Math.min(...losses, 10));
  const hi = Math.ceil(Math.max(...losses, lo + 1));
  const x = (s: number) => pad.left + (s / maxStep) * w;
  const y = (l: number) => pad.top + ((hi - l) / (hi - lo)) * h;
  const line = points
    .map((p, i) => `${i ? 'L' : 'M'}${x(p.step).toFixed(1)},${y(p.loss).toFixed(1)}`)
    .join(' ');
  const yTicks = Array.from({ length: hi - lo + 1 }, (_, i) => lo + i);
  const xTicks = Array.from({ length: 5 }, (_, i) => Math.round((maxStep * i) / 4));
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif" font-size="11">`,
    `<rect width="${width}" height="${height}" fill="white"/>`,
    ...yTicks.map(
      (t) =>
        `<line x1="${pad.left}" x2="${pad.left + w}" y1="${y(t)}" y2="${y(t)}" stroke="#ddd"/><text x="${pad.left - 6}" y="${y(t) + 4}" text-anchor="end">${t}</text>`,
    ),
    ...xTicks.map((t) => `<text x="${x(t)}" y="${pad.top + h + 16}" text-anchor="middle">${t}</text>`),
    `<text x="${pad.left + w / 2}" y="${height - 4}" text-anchor="middle">optimizer step</text>`,
    `<text transform="translate(12 ${pad.top + h / 2}) rotate(-90)" text-anchor="middle">held-out loss (nats/token)</text>`,
    `<path d="${line}" fill="none" stroke="#1f77b4" stroke-width="2"/>`,
    ...points.map(
      (p) => `<circle cx="${x(p.step).toFixed(1)}" cy="${y(p.loss).toFixed(1)}" r="2.5" fill="#1f77b4"/>`,
    ),
    '</svg>',
    '',
  ].join('\n');
}
