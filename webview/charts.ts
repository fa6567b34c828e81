/**
 * The dashboard's charts (uPlot): each draws some lines of every run shown, downsampled to the
 * pixel columns of the visible step range. Zoom (drag to select, double-click to reset) is one
 * step range for all charts, and each zoom draws the full-resolution points inside it.
 */
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css'; // esbuild emits it as dist/webview/main.css
import { downsample } from './downsample';
import type { RunSeries } from './metrics';

const STEP_TICKS = [1, 2, 5]
  .flatMap((m) => [1, 10, 100, 1e3, 1e4, 1e5, 1e6].map((p) => m * p))
  .sort((a, b) => a - b);

export interface Theme {
  foreground: string;
  grid: string;
  font: string;
  /** One colour per run, in order. */
  palette: string[];
}

const PALETTE_VARS: [string, string][] = [
  ['--vscode-charts-blue', '#3794ff'],
  ['--vscode-charts-orange', '#d18616'],
  ['--vscode-charts-green', '#89d185'],
  ['--vscode-charts-purple', '#b180d7'],
  ['--vscode-charts-red', '#f14c4c'],
  ['--vscode-charts-yellow', '#cca700'],
];

/** Chart colours from VS Code's theme variables (high contrast: the contrast border for the grid). */
export function readTheme(): Theme {
  const css = getComputedStyle(document.documentElement);
  const v = (name: string, fallback: string) => css.getPropertyValue(name).trim() || fallback;
  const highContrast = document.body.classList.contains('vscode-high-contrast');
  const foreground = v('--vscode-foreground', '#888888');
  return {
    foreground,
    grid: highContrast
      ? v('--vscode-contrastBorder', foreground)
      : v('--vscode-editorWidget-border', 'rgba(128,128,128,0.3)'),
    font: `${v('--vscode-font-size', '12px')} ${v('--vscode-font-family', 'sans-serif')}`,
    palette: PALETTE_VARS.map(([name, fallback]) => v(name, fallback)),
  };
}

/** One line of a chart: a run's column against its steps. */
interface Line {
  label: string;
  steps: number[];
  values: number[];
  color: string;
  /** Validation points: dashed, with markers. */
  sparse?: boolean;
}

export interface ChartSpec {
  title: string;
  hint?: string;
  height: number;
  lines(run: RunSeries, color: string): Line[];
}

export const CHARTS: ChartSpec[] = [
  {
    title: 'Loss',
    hint: 'train (solid) and validation (dashed)',
    height: 260,
    lines: (r, color) => [
      { label: `${r.title} · train`, steps: r.step, values: r.loss, color },
      { label: `${r.title} · validation`, steps: r.evalStep, values: r.evalLoss, color, sparse: true },
    ],
  },
  {
    title: 'Learning rate',
    height: 180,
    lines: (r, color) => [{ label: r.title, steps: r.step, values: r.lr, color }],
  },
  {
    title: 'Tokens / s',
    height: 180,
    lines: (r, color) => [{ label: r.title, steps: r.step, values: r.tokensPerSec, color }],
  },
];

export type StepRange = [number, number];

export class Chart {
  private plot: uPlot | undefined;
  /** Labels and colours the plot was built for: rebuilt when they change. */
  private shape = '';
  private readonly body: HTMLElement;

  constructor(
    parent: HTMLElement,
    private readonly spec: ChartSpec,
    private readonly onZoom: (range: StepRange | null) => void,
  ) {
    const section = document.createElement('section');
    section.className = 'chart';
    const h2 = document.createElement('h2');
    h2.textContent = spec.title + ' ';
    if (spec.hint) {
      const hint = document.createElement('span');
      hint.className = 'hint';
      hint.textContent = spec.hint;
      h2.append(hint);
    }
    this.body = document.createElement('div');
    section.append(h2, this.body);
    parent.append(section);
  }

  /** Draws `runs` (colours by position) over `zoom` or all steps; returns the points drawn. */
  draw(runs: RunSeries[], theme: Theme, zoom: StepRange | null, width: number): number {
    const lines = runs.flatMap((r, i) => this.spec.lines(r, theme.palette[i % theme.palette.length]));
    const shape = JSON.stringify([lines.map((l) => [l.label, l.color, l.sparse]), theme]);
    if (shape !== this.shape || !this.plot) {
      this.plot?.destroy();
      this.plot = this.create(lines, theme, width);
      this.shape = shape;
    } else if (this.plot.width !== width) this.plot.setSize({ width, height: this.spec.height });
    const columns = Math.max(16, Math.round(this.plot.bbox.width / devicePixelRatio) || width);
    const tables = lines.map((l): uPlot.AlignedData => {
      const d = downsample(l.steps, l.values, columns, zoom?.[0], zoom?.[1]);
      return [d.x, d.y];
    });
    const data = tables.length ? uPlot.join(tables) : ([[]] as uPlot.AlignedData);
    const plot = this.plot;
    plot.batch(() => {
      plot.setData(data, zoom === null);
      if (zoom) plot.setScale('x', { min: zoom[0], max: zoom[1] });
    });
    return data[0].length;
  }

  private create(lines: Line[], theme: Theme, width: number): uPlot {
    const axis = (): uPlot.Axis => ({
      stroke: theme.foreground,
      font: theme.font,
      grid: { stroke: theme.grid, width: 1 },
      ticks: { stroke: theme.grid, width: 1 },
    });
    const opts: uPlot.Options = {
      width,
      height: this.spec.height,
      scales: { x: { time: false } },
      // Steps are whole numbers: no 1.2, 1.4 … ticks on a short run.
      axes: [
        { ...axis(), incrs: STEP_TICKS },
        { ...axis(), size: 64, values: (_u, splits) => splits.map(formatTick) },
      ],
      series: [
        { label: 'step' },
        ...lines.map((l): uPlot.Series => ({
          label: l.label,
          stroke: l.color,
          width: l.sparse ? 1.5 : 1.25,
          dash: l.sparse ? [6, 4] : undefined,
          spanGaps: true,
          value: (_u, v) => (v == null ? '--' : formatValue(v)),
          points: l.sparse ? { show: true, size: 6, fill: l.color } : { show: false },
        })),
      ],
      cursor: {
        sync: { key: 'localtune-steps' },
        drag: { x: true, y: false, setScale: false },
        bind: {
          dblclick: () => () => {
            this.onZoom(null);
            return null;
          },
        },
      },
      hooks: {
        setSelect: [
          (u) => {
            if (u.select.width < 2) return;
            const from = u.posToVal(u.select.left, 'x');
            const to = u.posToVal(u.select.left + u.select.width, 'x');
            u.setSelect({ left: 0, top: 0, width: 0, height: 0 }, false);
            this.onZoom([from, to]);
          },
        ],
      },
    };
    return new uPlot(opts, [[]], this.body);
  }

  destroy(): void {
    this.plot?.destroy();
    this.plot = undefined;
  }
}

/** Legend numbers: 4 significant digits, small ones (learning rates) in exponent form. */
export function formatValue(v: number): string {
  return v !== 0 && Math.abs(v) < 1e-2 ? v.toExponential(3) : String(Number(v.toPrecision(4)));
}

/** Axis numbers: 2e-4 as "2.0e-4" (learning rates), large ones with k, others as short as exact. */
export function formatTick(v: number): string {
  if (v === 0) return '0';
  const abs = Math.abs(v);
  if (abs < 1e-2) return v.toExponential(1);
  if (abs >= 1e4) return `${Number((v / 1e3).toPrecision(4))}k`;
  return String(Number(v.toPrecision(4)));
}
