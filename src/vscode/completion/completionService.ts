/**
 * Owns the completion worker for the window: which model serves (the folder chosen with "Use for
 * Completions": an adapter with its base model, a tuned model, or an exported folder), starting
 * it when completions are on, restarting it when the model or its settings change, health checks,
 * a crash reported with "Show log", and disposal on deactivate. Also the status bar item (model,
 * on/off, last latency; a click toggles), per-language enablement, the files whose secrets the
 * dataset scrubber flagged (completions stay off there), and the local acceptance statistics.
 */
import { basename } from 'node:path';
import * as vscode from 'vscode';
import { CompletionClient } from '../../jobs/completionClient';
import { listDatasetDirs } from '../datasetInfo';
import { flaggedFiles, resolveServedModel, type ServedModel } from './completionModel';
import { CompletionStats } from './completionStats';
import { languageEnabled } from './completionText';

export interface CompletionSettings {
  enabled: boolean;
  /** The folder "Use for Completions" chose; '' for none. */
  model: string;
  debounceMs: number;
  maxTokens: number;
  temperature: number;
  topP: number;
  dtype: 'fp32' | 'int8';
  timeBudgetMs: number;
  /** Snippets from open editors and imported files before the prefix. */
  workspaceContext: boolean;
  /** Language id → on/off; `*` for the rest. */
  languages: Record<string, boolean>;
}

export function completionSettings(): CompletionSettings {
  const c = vscode.workspace.getConfiguration('localtune.completions');
  return {
    enabled: c.get<boolean>('enabled') ?? false,
    model: c.get<string>('model') ?? '',
    debounceMs: c.get<number>('debounceMs') ?? 150,
    maxTokens: c.get<number>('maxTokens') ?? 48,
    temperature: c.get<number>('temperature') ?? 0,
    topP: c.get<number>('topP') ?? 1,
    dtype: c.get<string>('dtype') === 'int8' ? 'int8' : 'fp32',
    timeBudgetMs: c.get<number>('timeBudgetMs') ?? 1500,
    workspaceContext: c.get<boolean>('workspaceContext') ?? true,
    languages: c.get<Record<string, boolean>>('languages') ?? {},
  };
}

type State =
  | { kind: 'off' }
  | { kind: 'no-model' }
  | { kind: 'starting'; label: string }
  | { kind: 'ready'; label: string }
  | { kind: 'error'; label: string; message: string };

/** What a request needs: the running client and the model it serves. */
export interface Serving {
  client: CompletionClient;
  served: ServedModel;
}

const HEALTH_EVERY_MS = 60_000;
const COMMAND_TOGGLE = 'localtune.toggleCompletions';

export class CompletionService implements vscode.Disposable {
  readonly stats: CompletionStats;
  private state: State = { kind: 'off' };
  private serving: Serving | undefined;
  /** The worker being started for `startingKey`. */
  private starting: Promise<Serving | undefined> | undefined;
  /** The model folder and worker settings the current (or failed) worker was started with. */
  private startedKey = '';
  private flagged = new Set<string>();
  private lastLatencyMs: number | undefined;
  private readonly item: vscode.StatusBarItem;
  private readonly disposables: vscode.Disposable[] = [];
  private readonly healthTimer: ReturnType<typeof setInterval>;

  constructor(
    private readonly o: {
      context: vscode.ExtensionContext;
      log: vscode.LogOutputChannel;
      /** dist/worker/complete.js */
      workerPath: string;
      workspace: () => string | undefined;
      /** An adapter's base model named by hub id: its folder in a hub cache, if there. */
      findBase: (hubId: string) => Promise<string | undefined>;
    },
  ) {
    this.stats = new CompletionStats(o.context.workspaceState, readDocumentText);
    this.item = vscode.window.createStatusBarItem(
      'localtune.completions',
      vscode.StatusBarAlignment.Right,
      100,
    );
    this.item.name = 'LocalTune completions';
    this.item.command = COMMAND_TOGGLE;
    const datasets = vscode.workspace.createFileSystemWatcher('**/.localtune/datasets/*/scrub-report.json');
    this.disposables.push(
      this.item,
      this.stats,
      datasets,
      datasets.onDidChange(() => this.readFlagged()),
      datasets.onDidCreate(() => this.readFlagged()),
      datasets.onDidDelete(() => this.readFlagged()),
      vscode.workspace.onDidChangeConfiguration((e) => {
        if (e.affectsConfiguration('localtune.completions')) void this.refresh();
      }),
      vscode.window.onDidChangeActiveTextEditor(() => this.render()),
      vscode.workspace.onDidChangeTextDocument((e) =>
        this.stats.documentChanged(
          e.document.uri.toString(),
          e.contentChanges.map((c) => ({
            offset: c.rangeOffset,
            removed: c.rangeLength,
            inserted: c.text.length,
          })),
        ),
      ),
    );
    this.healthTimer = setInterval(() => void this.checkHealth(), HEALTH_EVERY_MS);
    this.readFlagged();
    this.item.show();
    void this.refresh();
  }

  /** The worker and its model when completions are on and it runs (started here if need be). */
  async ready(): Promise<Serving | undefined> {
    const s = completionSettings();
    if (!s.enabled || !s.model) return undefined;
    if (workerKey(s) !== this.startedKey) this.restart(s);
    return this.starting;
  }

  /** The model serving now (for the stats), if any. */
  get served(): ServedModel | undefined {
    return this.serving?.served;
  }

  /** Why the provider must not complete in `doc`, or undefined. */
  disabledReason(doc: vscode.TextDocument): string | undefined {
    const s = completionSettings();
    if (!s.enabled) return 'completions are off';
    if (!s.model) return 'no model chosen (Use for Completions on a run)';
    if (!languageEnabled(s.languages, doc.languageId)) return `off for ${doc.languageId}`;
    if (this.flagged.has(doc.uri.fsPath)) return 'the dataset scrubber flagged secrets in this file';
    return undefined;
  }

  /** A request finished: the status bar shows its latency (from the request to the items). */
  reportLatency(ms: number): void {
    this.lastLatencyMs = ms;
    this.render();
  }

  /** For the e2e tests and the status bar tooltip. */
  describe(): { state: State['kind']; text: string; tooltip: string; lastLatencyMs?: number } {
    return {
      state: this.state.kind,
      text: this.item.text,
      tooltip: typeof this.item.tooltip === 'string' ? this.item.tooltip : (this.item.tooltip?.value ?? ''),
      lastLatencyMs: this.lastLatencyMs,
    };
  }

  dispose(): void {
    clearInterval(this.healthTimer);
    this.stop();
    for (const d of this.disposables) d.dispose();
  }

  /** Settings changed: start, restart or stop the worker to match them. */
  private async refresh(): Promise<void> {
    const s = completionSettings();
    if (!s.enabled || !s.model) {
      this.stop();
      this.setState(s.enabled ? { kind: 'no-model' } : { kind: 'off' });
      return;
    }
    if (workerKey(s) !== this.startedKey) this.restart(s);
    this.render();
  }

  private restart(s: CompletionSettings): void {
    this.stop();
    this.startedKey = workerKey(s);
    this.starting = this.start(s, this.startedKey);
  }

  private stop(): void {
    this.serving?.client.dispose();
    this.serving = undefined;
    this.starting = undefined;
    this.startedKey = '';
    this.lastLatencyMs = undefined;
  }

  private async start(s: CompletionSettings, key: string): Promise<Serving | undefined> {
    const { log } = this.o;
    const current = () => this.startedKey === key;
    this.setState({ kind: 'starting', label: basename(s.model) });
    const served = await resolveServedModel(s.model, this.o.findBase);
    if (!current()) return undefined;
    if ('error' in served) {
      this.fail(basename(s.model), `cannot serve completions: ${served.error}`);
      return undefined;
    }
    this.setState({ kind: 'starting', label: served.label });
    log.info(`completions: starting the worker for ${served.label} (${s.dtype}) from ${s.model}`);
    let client: CompletionClient;
    try {
      client = await CompletionClient.start({
        workerPath: this.o.workerPath,
        model: served.source,
        dtype: s.dtype,
        temperature: s.temperature,
        topP: s.topP,
        onLog: (line) => log.info(`[completion worker] ${line}`),
      });
    } catch (err) {
      if (current()) this.fail(served.label, (err as Error).message);
      return undefined;
    }
    if (!current()) {
      client.dispose();
      return undefined;
    }
    client.onDidCrash((cause) => {
      if (this.serving?.client === client) this.fail(served.label, cause);
    });
    this.serving = { client, served };
    this.setState({ kind: 'ready', label: served.label });
    return this.serving;
  }

  /** The worker cannot serve: the status bar says so and the user hears it once, with the log. */
  private fail(label: string, message: string): void {
    this.o.log.error(`completions: ${message}`);
    this.serving?.client.dispose();
    this.serving = undefined;
    this.starting = Promise.resolve(undefined);
    this.setState({ kind: 'error', label, message });
    void vscode.window
      .showErrorMessage(`LocalTune completions stopped: ${message}`, 'Show log', 'Restart')
      .then((pick) => {
        if (pick === 'Show log') this.o.log.show();
        if (pick === 'Restart') this.restart(completionSettings());
      });
  }

  private async checkHealth(): Promise<void> {
    const serving = this.serving;
    if (!serving) return;
    if (await serving.client.health(5000)) return;
    if (this.serving !== serving) return;
    this.o.log.warn('completions: the worker did not answer a health check within 5 s; restarting it');
    this.restart(completionSettings());
  }

  private readFlagged(): void {
    const ws = this.o.workspace();
    this.flagged = ws ? flaggedFiles(listDatasetDirs(ws)) : new Set();
    if (this.flagged.size)
      this.o.log.info(`completions: off in ${this.flagged.size} file(s) with flagged secrets`);
    this.render();
  }

  private setState(state: State): void {
    this.state = state;
    this.render();
  }

  private render(): void {
    const st = this.state;
    const doc = vscode.window.activeTextEditor?.document;
    const reason = doc && st.kind !== 'off' && st.kind !== 'no-model' ? this.disabledReason(doc) : undefined;
    const latency = this.lastLatencyMs === undefined ? '' : ` · ${Math.round(this.lastLatencyMs)} ms`;
    const tip = new vscode.MarkdownString(undefined, true);
    switch (st.kind) {
      case 'off':
        this.item.text = '$(circle-slash) LocalTune';
        tip.appendMarkdown('**LocalTune completions are off.** Click to turn them on.');
        break;
      case 'no-model':
        this.item.text = '$(sparkle) LocalTune: no model';
        tip.appendMarkdown(
          'Choose a run in the Runs view with **Use for Completions**. Click to turn completions off.',
        );
        break;
      case 'starting':
        this.item.text = `$(loading~spin) ${st.label}`;
        tip.appendMarkdown(`Loading **${st.label}** in the completion worker…`);
        break;
      case 'ready':
        this.item.text = reason ? `$(circle-slash) ${st.label}` : `$(sparkle) ${st.label}${latency}`;
        tip.appendMarkdown(
          `Completions from **${st.label}**${reason ? ` — ${reason} here` : ''}.\n\n` +
            (this.lastLatencyMs === undefined
              ? ''
              : `Last completion: ${Math.round(this.lastLatencyMs)} ms.\n\n`) +
            'Click to turn completions off.',
        );
        break;
      case 'error':
        this.item.text = `$(error) ${st.label}`;
        tip.appendMarkdown(`The completion worker stopped: ${st.message}\n\nSee **LocalTune: Show Log**.`);
        break;
    }
    this.item.tooltip = tip;
    this.item.backgroundColor =
      st.kind === 'error' ? new vscode.ThemeColor('statusBarItem.errorBackground') : undefined;
  }
}

function workerKey(s: CompletionSettings): string {
  return JSON.stringify([s.model, s.dtype, s.temperature, s.topP]);
}

/** The text of [start, end) in an open document, or the file on disk (a closed editor). */
async function readDocumentText(uri: string, start: number, end: number): Promise<string | undefined> {
  const u = vscode.Uri.parse(uri);
  const doc =
    vscode.workspace.textDocuments.find((d) => d.uri.toString() === uri) ??
    (await vscode.workspace.openTextDocument(u).then(
      (d) => d,
      () => undefined,
    ));
  if (!doc) return undefined;
  return doc.getText(new vscode.Range(doc.positionAt(start), doc.positionAt(end)));
}
