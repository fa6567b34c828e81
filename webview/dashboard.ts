/**
 * The dashboard page: a header (step / total, elapsed, ETA, memory, losses), the buttons, the
 * runs shown, and the charts. It holds every run's full data, draws at most once per animation
 * frame, and acknowledges what it drew to the host.
 */
import { Chart, CHARTS, readTheme, type StepRange, type Theme } from './charts';
import { toCsv } from './csv';
import { renderEvaluation } from './evaluation';
import { etaSeconds, formatBytes, formatDuration, totalElapsed } from './eta';
import { parseMetrics, RunSeries } from './metrics';
import type { CompletionStatsRow, DashboardState, HostMessage, RunAck, WebviewMessage } from './protocol';

/** What the page needs of VS Code's webview API (`acquireVsCodeApi()`). */
export interface WebviewHost {
  postMessage(message: WebviewMessage): void;
  setState(state: DashboardState): void;
}

type ButtonId = 'stop' | 'resume' | 'export' | 'playground' | 'compare' | 'csv';

export class Dashboard {
  private runs: RunSeries[] = [];
  private zoom: StepRange | null = null;
  private theme: Theme = readTheme();
  private readonly charts: Chart[];
  private readonly buttons = new Map<ButtonId, HTMLElement>();
  private readonly title = document.createElement('h1');
  private readonly stats = document.createElement('dl');
  private readonly runList = document.createElement('ul');
  private readonly empty = document.createElement('p');
  private readonly chartsBox = document.createElement('div');
  private readonly completions = document.createElement('section');
  private readonly evaluation = document.createElement('section');
  private completionRows: CompletionStatsRow[] = [];
  private maskedOutputs = 0;
  private frame = 0;

  constructor(
    private readonly root: HTMLElement,
    private readonly host: WebviewHost,
  ) {
    const header = document.createElement('header');
    this.stats.className = 'stats';
    this.runList.className = 'runs';
    const actions = document.createElement('div');
    actions.className = 'actions';
    const button = (id: ButtonId, label: string, onClick: () => void, secondary = false) => {
      const b = document.createElement('vscode-button');
      b.textContent = label;
      if (secondary) b.setAttribute('secondary', '');
      b.dataset.action = id;
      b.addEventListener('click', () => {
        if (!b.hasAttribute('disabled')) onClick();
      });
      this.buttons.set(id, b);
      actions.append(b);
    };
    button('stop', 'Stop', () => host.postMessage({ type: 'stop' }));
    button('resume', 'Resume', () => host.postMessage({ type: 'resume' }));
    button('export', 'Export model', () => host.postMessage({ type: 'export' }), true);
    button('playground', 'Open in Playground', () => host.postMessage({ type: 'playground' }), true);
    button('compare', 'Compare with…', () => host.postMessage({ type: 'compare' }), true);
    button('csv', 'Export CSV', () => this.saveCsv(), true);
    header.append(this.title, this.stats, actions, this.runList);
    this.empty.className = 'empty';
    this.empty.textContent = 'Waiting for the first training step…';
    this.completions.className = 'completions';
    root.append(header, this.completions, this.empty, this.chartsBox);
    this.charts = CHARTS.map((spec) => new Chart(this.chartsBox, spec, (range) => this.setZoom(range)));
    this.evaluation.className = 'evaluation';
    this.evaluation.hidden = true;
    header.after(this.evaluation);

    new ResizeObserver(() => this.schedule()).observe(root);
    // VS Code switches themes by changing the body's class and the variables on <html>.
    const retheme = new MutationObserver(() => {
      this.theme = readTheme();
      this.schedule();
    });
    retheme.observe(document.body, { attributes: true, attributeFilter: ['class'] });
    retheme.observe(document.documentElement, { attributes: true, attributeFilter: ['style'] });
    this.render();
  }

  onMessage(m: HostMessage): void {
    if (m.type === 'evaluation') {
      this.evaluation.hidden = false;
      renderEvaluation(this.evaluation, m.report, (msg) => this.host.postMessage(msg), m.verdict ?? null);
      return;
    }
    if (m.type === 'completionStats') {
      this.completionRows = m.rows;
      this.renderCompletions();
      return;
    }
    if (m.type === 'maskedOutputs') {
      this.maskedOutputs = m.count;
      this.renderCompletions();
      return;
    }
    if (m.type === 'load') {
      for (const load of m.runs) {
        const run = new RunSeries(load.runDir, load.title);
        run.addAll(parseMetrics(load.metricsText).events, false);
        run.addAll(load.live, true);
        const i = this.runs.findIndex((r) => r.runDir === load.runDir);
        if (i >= 0) this.runs[i] = run;
        else this.runs.push(run);
      }
      const primary = this.runs.findIndex((r) => r.runDir === m.primary);
      if (primary > 0) this.runs.unshift(...this.runs.splice(primary, 1));
      this.saveState();
      this.renderCompletions();
    } else {
      for (const b of m.batches) this.runs.find((r) => r.runDir === b.runDir)?.addAll(b.events, true);
    }
    this.schedule();
  }

  private schedule(): void {
    this.frame ||= requestAnimationFrame(() => {
      this.frame = 0;
      this.render();
    });
  }

  private render(): void {
    const started = performance.now();
    const primary = this.runs[0];
    this.renderHeader(primary);
    const hasPoints = this.runs.some((r) => r.points > 0);
    this.empty.hidden = hasPoints;
    this.chartsBox.hidden = !hasPoints;
    if (hasPoints) {
      const width = Math.max(200, this.root.clientWidth);
      for (const c of this.charts) c.draw(this.runs, this.theme, this.zoom, width);
    }
    if (!primary) return;
    const runs: Record<string, RunAck> = {};
    let points = 0;
    for (const r of this.runs) {
      runs[r.runDir] = { points: r.points, lastStep: r.lastStep };
      points += r.points;
    }
    this.host.postMessage({ type: 'ack', points, runs, drawMs: performance.now() - started });
  }

  private renderHeader(primary: RunSeries | undefined): void {
    this.title.textContent = primary?.title ?? 'Training dashboard';
    const status = primary?.status ?? 'empty';
    if (primary) {
      const badge = document.createElement('span');
      badge.className = 'status';
      badge.textContent = status === 'empty' ? 'no steps yet' : status;
      this.title.append(badge);
    }
    const last = (col: number[] | undefined) => (col?.length ? col[col.length - 1] : undefined);
    const fixed = (v: number | undefined, digits: number) => (v === undefined ? '—' : v.toFixed(digits));
    const bestEval = primary?.evalLoss.length ? primary.evalLoss.reduce((a, b) => Math.min(a, b)) : undefined;
    const stats: [string, string][] = [
      ['Step', primary ? `${Math.max(0, primary.lastStep)} / ${primary.totalSteps || '?'}` : '—'],
      ['Elapsed', formatDuration(primary && totalElapsed(primary.elapsed))],
      [
        'ETA',
        status === 'running' && primary
          ? formatDuration(etaSeconds(primary.step, primary.elapsed, primary.totalSteps))
          : '—',
      ],
      ['Loss', fixed(last(primary?.loss), 4)],
      ['Validation loss', `${fixed(last(primary?.evalLoss), 4)} (best ${fixed(bestEval, 4)})`],
      ['Tokens/s', fixed(last(primary?.tokensPerSec), 0)],
    ];
    if (primary?.memoryBytes !== undefined) stats.push(['Memory', formatBytes(primary.memoryBytes)]);
    this.stats.replaceChildren(...statItems(stats));
    this.enable('stop', status === 'running');
    this.enable('resume', status === 'stopped' || status === 'failed');
    this.enable('export', status === 'stopped' || status === 'finished' || status === 'failed');
    this.enable('playground', status === 'stopped' || status === 'finished');
    this.enable('compare', primary !== undefined);
    this.enable(
      'csv',
      this.runs.some((r) => r.points > 0),
    );
    this.renderRunList();
  }

  private renderRunList(): void {
    this.runList.hidden = this.runs.length < 2;
    this.runList.replaceChildren(
      ...this.runs.map((r, i) => {
        const li = document.createElement('li');
        const swatch = document.createElement('span');
        swatch.className = 'swatch';
        swatch.style.background = this.theme.palette[i % this.theme.palette.length];
        li.append(swatch, r.title);
        if (i > 0) {
          const remove = document.createElement('button');
          remove.textContent = '×';
          remove.title = `Remove ${r.title} from the comparison`;
          remove.addEventListener('click', () => this.removeRun(r.runDir));
          li.append(remove);
        }
        return li;
      }),
    );
  }

  /** The Completions section: each model's local counters, this run's models first. */
  private renderCompletions(): void {
    const runDir = this.runs[0]?.runDir;
    const mine = (r: CompletionStatsRow) => (runDir !== undefined && r.model.startsWith(runDir) ? 0 : 1);
    const rows = [...this.completionRows].sort((a, b) => mine(a) - mine(b));
    const title = document.createElement('h2');
    title.textContent = 'Completions';
    title.style.fontSize = '1.1em';
    const note = document.createElement('p');
    note.style.color = 'var(--vscode-descriptionForeground)';
    note.textContent = rows.length
      ? 'Counted on this machine only, never sent anywhere.'
      : 'No completions yet: choose a run with "Use for Completions" and type in an editor. Counted on this machine only.';
    const pct = (a: number, b: number) => (b > 0 ? `${Math.round((100 * a) / b)}%` : '—');
    const models = rows.map((r) => {
      const name = document.createElement('h3');
      name.style.fontSize = '1em';
      name.style.margin = '8px 0 4px';
      name.textContent = mine(r) === 0 ? `${r.label} (this run)` : r.label;
      name.title = r.model;
      const stats = document.createElement('dl');
      stats.className = 'stats';
      const values: [string, string][] = [
        ['Shown', String(r.shown)],
        ['Accepted', `${r.accepted} (${pct(r.accepted, r.shown)})`],
        ['Accepted characters', String(r.acceptedChars)],
        [
          'Kept after 30 s',
          r.checkedChars ? `${pct(r.survivedChars, r.checkedChars)} of ${r.checkedChars}` : '—',
        ],
      ];
      stats.append(...statItems(values));
      return [name, stats];
    });
    // Watching the outputs: secrets the models said, masked before anyone saw them.
    const masked = document.createElement('p');
    masked.className = 'masked-outputs';
    masked.textContent = `Model outputs masked (secrets): ${this.maskedOutputs}`;
    this.completions.replaceChildren(title, note, masked, ...models.flat());
  }

  private enable(id: ButtonId, on: boolean): void {
    this.buttons.get(id)?.toggleAttribute('disabled', !on);
  }

  private setZoom(range: StepRange | null): void {
    this.zoom = range && range[1] > range[0] ? range : null;
    this.schedule();
  }

  private removeRun(runDir: string): void {
    this.runs = this.runs.filter((r, i) => i === 0 || r.runDir !== runDir);
    this.host.postMessage({ type: 'removeRun', runDir });
    this.saveState();
    this.schedule();
  }

  private saveCsv(): void {
    const name = (this.runs[0]?.title ?? 'run').replace(/[^\w.-]+/g, '-');
    this.host.postMessage({ type: 'saveCsv', csv: toCsv(this.runs), fileName: `${name}-metrics.csv` });
  }

  private saveState(): void {
    this.host.setState({ runDirs: this.runs.map((r) => r.runDir) });
  }
}

/** `<div><dt>name</dt><dd>value</dd></div>` per pair, for a `dl.stats`. */
function statItems(pairs: [string, string][]): HTMLDivElement[] {
  return pairs.map(([name, value]) => {
    const div = document.createElement('div');
    const dt = document.createElement('dt');
    const dd = document.createElement('dd');
    dt.textContent = name;
    dd.textContent = value;
    div.append(dt, dd);
    return div;
  });
}
