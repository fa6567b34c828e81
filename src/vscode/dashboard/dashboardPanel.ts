/**
 * The training dashboard: a webview panel showing one run's metrics live (and other runs overlaid
 * for comparison). The host only routes: it reads `metrics.jsonl` on (re)load, batches live
 * events to the page, hands the page's run buttons (typed `RunActionMessage`s, webview/protocol.ts)
 * to the handlers the features registered with `DashboardPanel.handle`, and shows file dialogs.
 * The page (`webview/main.ts`, bundled to `dist/webview/main.js`) draws.
 *
 * `retainContextWhenHidden` is off: a hidden panel's page is discarded, and when it shows again
 * (or after a window reload, through the serializer) the page says `ready` and gets everything
 * again from disk plus the live events that disk did not hold yet.
 */
import { existsSync } from 'node:fs';
import { readFile, readdir, stat, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import * as vscode from 'vscode';
import type { EvalReport } from '../../eval/report';
import { checkPageMessage } from './pageMessage';
import { runEvaluation, verdictOf } from '../../jobs/runEvaluation';
import type {
  CompletionStatsRow,
  DashboardEvent,
  DashboardState,
  HostMessage,
  RunAck,
  RunActionMessage,
  RunLoad,
  WebviewMessage,
} from '../../../webview/protocol';
import { dashboardHtml, makeNonce } from './html';
import { lastMetricStep, liveTail } from './liveTail';

export type { DashboardEvent } from '../../../webview/protocol';

/**
 * What the dashboard's run buttons do, one handler per message type, called with the dashboard's
 * own run (its primary run) and the message. Handlers report their own errors.
 */
export type DashboardActions = {
  [M in RunActionMessage as M['type']]: (runDir: string, message: M) => unknown;
};

/** Live events go to the page at most this often. */
const BATCH_MS = 100;

interface PanelRun {
  runDir: string;
  title: string;
  /** Events posted live that the last read of metrics.jsonl did not contain (replayed on reload). */
  live: DashboardEvent[];
}

export class DashboardPanel {
  static readonly viewType = 'localtune.dashboard';
  private static readonly panels = new Set<DashboardPanel>();
  /** The handlers of the run buttons, as the features registered them. */
  private static readonly actions: Partial<DashboardActions> = {};

  /** The local completion statistics every dashboard shows in its Completions section. */
  private static completionStats: CompletionStatsRow[] = [];
  /** Model outputs masked in this workspace (the Completions section shows it). */
  private static maskedOutputs = 0;

  private readonly runs: PanelRun[];
  private readonly disposables: vscode.Disposable[] = [];
  /** Live events not yet sent to the page, per run. */
  private queue = new Map<string, DashboardEvent[]>();
  private flushTimer: ReturnType<typeof setTimeout> | undefined;
  /** The page has said `ready` and has not been discarded since. */
  private pageReady = false;
  /** Bumped per full reload so a slow read of an older one is dropped. */
  private loadGeneration = 0;
  private acked: Record<string, RunAck> = {};
  private lastDrawMs = 0;

  /**
   * Registers handlers for run buttons (Stop, Resume, Export model, Evaluate, Show samples): each
   * feature registers the ones it owns. Disposing unregisters them.
   */
  static handle(actions: Partial<DashboardActions>): vscode.Disposable {
    Object.assign(DashboardPanel.actions, actions);
    return new vscode.Disposable(() => {
      for (const [type, handler] of Object.entries(actions))
        if (DashboardPanel.actions[type as keyof DashboardActions] === handler)
          delete DashboardPanel.actions[type as keyof DashboardActions];
    });
  }

  /** Opens (or reveals) the dashboard of `run`. */
  static show(extensionUri: vscode.Uri, run: { runDir: string; title: string }): DashboardPanel {
    const existing = DashboardPanel.forRun(run.runDir);
    if (existing) {
      existing.panel.reveal();
      return existing;
    }
    const panel = vscode.window.createWebviewPanel(
      DashboardPanel.viewType,
      run.title,
      vscode.ViewColumn.Active,
      DashboardPanel.webviewOptions(extensionUri),
    );
    return new DashboardPanel(panel, extensionUri, [run]);
  }

  /** The open dashboard whose own run is `runDir` (not one where it is only overlaid). */
  static forRun(runDir: string): DashboardPanel | undefined {
    for (const p of DashboardPanel.panels) if (p.runs[0].runDir === runDir) return p;
    return undefined;
  }

  /** The run is being deleted: its own dashboard closes, and it leaves the others it is overlaid on. */
  static closeRun(runDir: string): void {
    for (const p of [...DashboardPanel.panels]) {
      if (p.runs[0].runDir === runDir) p.panel.dispose();
      else if (p.runs.some((r) => r.runDir === runDir)) {
        p.runs.splice(
          p.runs.findIndex((r) => r.runDir === runDir),
          1,
        );
        if (p.pageReady) void p.load(p.runs, true);
      }
    }
  }

  /** The run was renamed: its dashboard's tab and heading follow. */
  static retitle(runDir: string, title: string): void {
    const p = DashboardPanel.forRun(runDir);
    if (!p) return;
    p.runs[0].title = title;
    p.panel.title = title;
    if (p.pageReady) void p.load(p.runs, true);
  }

  /**
   * Brings the run's own dashboard (if open) to the front and focuses it, so that what opens
   * `Beside` next lands in another group, side by side with it, never over it.
   */
  static revealRun(runDir: string): void {
    DashboardPanel.forRun(runDir)?.panel.reveal(undefined, false);
  }

  /** A run's evaluation finished: the dashboards whose own run it is show the figures. */
  static showEvaluation(runDir: string, report: EvalReport): void {
    const p = DashboardPanel.forRun(runDir);
    if (p?.pageReady) p.send({ type: 'evaluation', report, verdict: verdictOf(report) });
  }

  /** New completion statistics (every model's): shown at once in every open dashboard. */
  static setCompletionStats(rows: CompletionStatsRow[]): void {
    DashboardPanel.completionStats = rows;
    for (const p of DashboardPanel.panels) if (p.pageReady) p.send({ type: 'completionStats', rows });
  }

  /** A new count of masked model outputs: shown at once in every open dashboard. */
  static setMaskedOutputs(count: number): void {
    DashboardPanel.maskedOutputs = count;
    for (const p of DashboardPanel.panels) if (p.pageReady) p.send({ type: 'maskedOutputs', count });
  }

  /** Restores dashboards after a window reload (state: the runDir list the page saved). */
  static registerSerializer(context: vscode.ExtensionContext): vscode.Disposable {
    return vscode.window.registerWebviewPanelSerializer(DashboardPanel.viewType, {
      async deserializeWebviewPanel(panel: vscode.WebviewPanel, state: unknown) {
        // A run deleted since (its folder gone) is not revived, nor overlaid.
        const runDirs = (state as Partial<DashboardState> | undefined)?.runDirs?.filter(
          (d) => typeof d === 'string' && existsSync(d),
        );
        const primary = (state as Partial<DashboardState> | undefined)?.runDirs?.[0];
        if (!runDirs?.length || runDirs[0] !== primary) {
          panel.dispose();
          return;
        }
        panel.webview.options = DashboardPanel.webviewOptions(context.extensionUri);
        const runs = runDirs.map((runDir, i) => ({
          runDir,
          title: i === 0 ? panel.title : basename(runDir),
        }));
        new DashboardPanel(panel, context.extensionUri, runs);
      },
    });
  }

  /**
   * Points the page has drawn and acknowledged for `runDir`, over every open dashboard showing it
   * (the largest); undefined when none shows it. For e2e tests (`localtune.dashboard.debugState`).
   */
  static debugState(
    runDir: string,
  ): { points: number; lastStep: number; panels: number; drawMs: number } | undefined {
    let found: { points: number; lastStep: number; panels: number; drawMs: number } | undefined;
    for (const p of DashboardPanel.panels) {
      if (!p.runs.some((r) => r.runDir === runDir)) continue;
      const ack = p.acked[runDir] ?? { points: 0, lastStep: -1 };
      found ??= { points: 0, lastStep: -1, panels: 0, drawMs: 0 };
      found.panels++;
      if (ack.points >= found.points) Object.assign(found, ack, { drawMs: p.lastDrawMs });
    }
    return found;
  }

  private static webviewOptions(
    extensionUri: vscode.Uri,
  ): vscode.WebviewPanelOptions & vscode.WebviewOptions {
    return {
      enableScripts: true,
      retainContextWhenHidden: false,
      localResourceRoots: [
        vscode.Uri.joinPath(extensionUri, 'dist', 'webview'),
        vscode.Uri.joinPath(extensionUri, 'media'),
      ],
    };
  }

  private constructor(
    private readonly panel: vscode.WebviewPanel,
    private readonly extensionUri: vscode.Uri,
    runs: { runDir: string; title: string }[],
  ) {
    this.runs = runs.map((r) => ({ ...r, live: [] }));
    DashboardPanel.panels.add(this);
    panel.webview.html = this.html();
    this.disposables.push(
      panel.webview.onDidReceiveMessage((raw: unknown) => {
        // What the page posts is checked before the host acts on it (pageMessage.ts).
        const checked = checkPageMessage(raw);
        if ('message' in checked) this.onMessage(checked.message);
        else console.warn(`LocalTune dashboard: ignored a message from the page (${checked.rejected})`);
      }),
      panel.onDidChangeViewState(() => {
        if (!panel.visible) this.pageReady = false;
      }),
      panel.onDidDispose(() => this.dispose()),
    );
  }

  /** A live event of this dashboard's run (also drawn where the run is overlaid elsewhere). */
  post(event: DashboardEvent): void {
    const runDir = this.runs[0].runDir;
    for (const p of DashboardPanel.panels) p.enqueue(runDir, event);
  }

  private enqueue(runDir: string, event: DashboardEvent): void {
    const run = this.runs.find((r) => r.runDir === runDir);
    if (!run || event.type === 'log' || event.type === 'checkpoint') return;
    run.live.push(event);
    if (!this.pageReady) return; // `ready` reloads everything, the live events included
    const q = this.queue.get(runDir);
    if (q) q.push(event);
    else this.queue.set(runDir, [event]);
    this.flushTimer ??= setTimeout(() => this.flush(), BATCH_MS);
  }

  private flush(): void {
    this.flushTimer = undefined;
    if (!this.pageReady || this.queue.size === 0) return;
    const batches = [...this.queue].map(([runDir, events]) => ({ runDir, events }));
    this.queue.clear();
    this.send({ type: 'events', batches });
  }

  private send(m: HostMessage): void {
    void this.panel.webview.postMessage(m);
  }

  private onMessage(m: WebviewMessage): void {
    switch (m.type) {
      case 'ready':
        this.pageReady = true;
        void this.load(this.runs, true);
        this.send({ type: 'completionStats', rows: DashboardPanel.completionStats });
        this.send({ type: 'maskedOutputs', count: DashboardPanel.maskedOutputs });
        {
          const report = runEvaluation(this.runs[0].runDir);
          this.send({ type: 'evaluation', report, verdict: report && verdictOf(report) });
        }
        break;
      case 'ack':
        this.acked = m.runs;
        this.lastDrawMs = m.drawMs;
        break;
      case 'stop':
      case 'resume':
      case 'export':
      case 'evaluate':
      case 'showSamples':
        this.runAction(m);
        break;
      case 'compare':
        void this.pickComparison();
        break;
      case 'removeRun': {
        const i = this.runs.findIndex((r) => r.runDir === m.runDir);
        if (i > 0) this.runs.splice(i, 1);
        break;
      }
      case 'saveCsv':
        void this.saveCsv(m.csv, m.fileName);
        break;
    }
  }

  /** A run button: its handler, for this dashboard's own run. */
  private runAction<M extends RunActionMessage>(m: M): void {
    const handler = DashboardPanel.actions[m.type] as ((runDir: string, message: M) => unknown) | undefined;
    void handler?.(this.runs[0].runDir, m);
  }

  /** Reads each run's metrics.jsonl and hands it to the page with the live events it lacks. */
  private async load(runs: PanelRun[], all: boolean): Promise<void> {
    const generation = all ? ++this.loadGeneration : this.loadGeneration;
    const texts = await Promise.all(
      runs.map((r) => readFile(join(r.runDir, 'metrics.jsonl'), 'utf8').catch(() => '')),
    );
    if (generation !== this.loadGeneration || !this.pageReady) return;
    const loads: RunLoad[] = runs.map((r, i) => {
      r.live = liveTail(r.live, lastMetricStep(texts[i]));
      this.queue.delete(r.runDir);
      return { runDir: r.runDir, title: r.title, metricsText: texts[i], live: r.live };
    });
    this.send({ type: 'load', primary: this.runs[0].runDir, runs: loads });
  }

  /** "Compare with…": the other runs of the same runs folder that hold metrics. */
  private async pickComparison(): Promise<void> {
    const runsFolder = dirname(this.runs[0].runDir);
    const shown = new Set(this.runs.map((r) => r.runDir));
    const names = await readdir(runsFolder).catch(() => [] as string[]);
    const items: (vscode.QuickPickItem & { runDir: string; mtime: number })[] = [];
    for (const name of names) {
      const runDir = join(runsFolder, name);
      if (shown.has(runDir)) continue;
      const s = await stat(join(runDir, 'metrics.jsonl')).catch(() => undefined);
      if (s?.isFile())
        items.push({ label: name, description: s.mtime.toLocaleString(), runDir, mtime: s.mtimeMs });
    }
    if (items.length === 0) {
      void vscode.window.showInformationMessage(`LocalTune: no other runs with metrics in ${runsFolder}.`);
      return;
    }
    items.sort((a, b) => b.mtime - a.mtime);
    const picked = await vscode.window.showQuickPick(items, {
      canPickMany: true,
      title: 'Compare with…',
      placeHolder: 'Runs to overlay on this dashboard',
    });
    if (!picked?.length) return;
    const added = picked
      .filter((p) => !this.runs.some((r) => r.runDir === p.runDir))
      .map((p) => ({ runDir: p.runDir, title: p.label, live: [] }));
    this.runs.push(...added);
    if (this.pageReady) await this.load(added, false);
  }

  private async saveCsv(csv: string, fileName: string): Promise<void> {
    const target = await vscode.window.showSaveDialog({
      defaultUri: vscode.Uri.file(join(this.runs[0].runDir, fileName)),
      filters: { CSV: ['csv'] },
      title: 'Export metrics as CSV',
    });
    if (!target) return;
    try {
      await writeFile(target.fsPath, csv, 'utf8');
      void vscode.window.showInformationMessage(`LocalTune: metrics written to ${target.fsPath}.`);
    } catch (err) {
      void vscode.window.showErrorMessage(
        `LocalTune: could not write ${target.fsPath}: ${(err as Error).message}`,
      );
    }
  }

  private html(): string {
    const asWebview = (...path: string[]) =>
      this.panel.webview.asWebviewUri(vscode.Uri.joinPath(this.extensionUri, ...path)).toString();
    return dashboardHtml({
      cspSource: this.panel.webview.cspSource,
      nonce: makeNonce(),
      script: asWebview('dist', 'webview', 'main.js'),
      styles: [asWebview('dist', 'webview', 'main.css'), asWebview('media', 'dashboard.css')],
    });
  }

  private dispose(): void {
    DashboardPanel.panels.delete(this);
    if (this.flushTimer) clearTimeout(this.flushTimer);
    for (const d of this.disposables) d.dispose();
  }
}
