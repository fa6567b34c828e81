/**
 * The Fine-tune form's panel: a webview (webview/finetune/, its own bundle) with the model, the
 * dataset, the run's name, a preset and every hyperparameter; before Start it shows the pre-flight
 * estimate (a calibration measured in the worker, cached per model and shape in
 * `.localtune/estimates.json`). Start hands the spec to the training controller, which saves it in
 * the run's run.json. The host only routes; the page draws.
 */
import { freemem, totalmem } from 'node:os';
import { join } from 'node:path';
import * as vscode from 'vscode';
import {
  cacheCalibration,
  cachedCalibration,
  calibrationKey,
  estimateRun,
  type Calibration,
} from '../../jobs/estimate';
import { defaultLearningRate } from '../../jobs/trainDefaults';
import type {
  FinetuneChoice,
  FinetuneEstimate,
  FinetuneHostMessage,
  FinetunePageMessage,
  FinetuneValues,
} from '../../../webview/protocol';
import { dashboardHtml, makeNonce } from '../dashboard/html';
import { describeModel } from '../modelCatalog';
import { initialValues, PRESETS, runName, specFromForm } from './formSpec';

export interface FinetuneHost {
  extensionUri: vscode.Uri;
  workspace: string;
  models: FinetuneChoice[];
  datasets: FinetuneChoice[];
  /** What the form starts with (a model or dataset the command was invoked on). */
  model?: string;
  dataset?: string;
  settings: { seqLen: number; learningRate: number };
  calibrate(spec: Parameters<typeof calibrationKey>[0]): Promise<Calibration | undefined>;
  /** Starts the run; resolves to its folder, or undefined when refused (the controller said why). */
  start(spec: Omit<Parameters<typeof calibrationKey>[0], 'outDir'>, title: string): string | undefined;
}

/** What `localtune.finetune.debugState` answers (e2e tests): the open form, or the last run it started. */
export interface FinetuneDebugState {
  values?: FinetuneValues;
  estimate: FinetuneEstimate | null;
  error?: string;
  lastStarted?: string;
  /** How many times the form took the host's defaults. */
  defaultsApplied?: number;
}

export class FinetunePanel {
  static readonly viewType = 'localtune.finetune';
  private static current: FinetunePanel | undefined;
  /** The run the last Start began (for tests). */
  static lastStarted: string | undefined;
  /** The job folder the last Train elsewhere wrote (for tests). */
  static lastHandoff: string | undefined;
  /** What tests pass instead of answering Train elsewhere's engine pick. */
  private handoffArgs: unknown;

  private estimating = false;
  private pendingEstimate: FinetuneValues | undefined;
  private readonly disposables: vscode.Disposable[] = [];

  static show(host: FinetuneHost): FinetunePanel {
    FinetunePanel.current?.panel.dispose();
    const panel = vscode.window.createWebviewPanel(
      FinetunePanel.viewType,
      'Fine-tune',
      vscode.ViewColumn.Active,
      {
        enableScripts: true,
        retainContextWhenHidden: true,
        localResourceRoots: [
          vscode.Uri.joinPath(host.extensionUri, 'dist', 'webview'),
          vscode.Uri.joinPath(host.extensionUri, 'media'),
        ],
      },
    );
    return (FinetunePanel.current = new FinetunePanel(panel, host));
  }

  private values: FinetuneValues | undefined;
  private lastEstimate: FinetuneEstimate | null = null;
  private lastError: string | undefined;
  /** How many times the form took the host's defaults (a model, mode or dataset change). */
  private defaultsApplied = 0;
  private disposed = false;

  /** For e2e tests: whether a form is open, its values and its last estimate or error. */
  static debugState(): FinetuneDebugState | undefined {
    const p = FinetunePanel.current;
    if (!p)
      return FinetunePanel.lastStarted
        ? { estimate: null, lastStarted: FinetunePanel.lastStarted }
        : undefined;
    return {
      values: p.values,
      estimate: p.lastEstimate,
      error: p.lastError,
      lastStarted: FinetunePanel.lastStarted,
      defaultsApplied: p.defaultsApplied,
    };
  }

  /** For e2e tests: Start, as the page's button does, with some values changed. */
  static async submit(changes: Partial<FinetuneValues>): Promise<string | undefined> {
    const p = FinetunePanel.current;
    if (!p?.values) return undefined;
    FinetunePanel.lastStarted = undefined;
    await p.onMessage({ type: 'start', values: { ...p.values, ...changes } });
    return FinetunePanel.lastStarted;
  }

  /** For e2e tests: Train elsewhere, as the page's button does, with the engine and folder given. */
  static async handOff(args: { engine: string; outDir: string }): Promise<string | undefined> {
    const p = FinetunePanel.current;
    if (!p?.values) return undefined;
    p.handoffArgs = args;
    FinetunePanel.lastHandoff = undefined;
    await p.onMessage({ type: 'handoff', values: p.values });
    return FinetunePanel.lastHandoff;
  }

  private constructor(
    private readonly panel: vscode.WebviewPanel,
    private readonly host: FinetuneHost,
  ) {
    const asWebview = (...p: string[]) =>
      panel.webview.asWebviewUri(vscode.Uri.joinPath(host.extensionUri, ...p)).toString();
    // The same strict-CSP shell as the dashboard's page, with the form's script and styles.
    panel.webview.html = dashboardHtml({
      title: 'Fine-tune',
      cspSource: panel.webview.cspSource,
      nonce: makeNonce(),
      script: asWebview('dist', 'webview', 'finetune.js'),
      styles: [asWebview('media', 'finetune.css')],
    });
    this.disposables.push(
      panel.webview.onDidReceiveMessage((m: FinetunePageMessage) => this.onMessage(m)),
      panel.onDidDispose(() => {
        this.disposed = true;
        if (FinetunePanel.current === this) FinetunePanel.current = undefined;
        for (const d of this.disposables) d.dispose();
      }),
    );
  }

  private post(m: FinetuneHostMessage): void {
    if (m.type === 'init') this.values = m.values;
    if (m.type === 'estimate') {
      this.lastEstimate = m.estimate;
      this.lastError = m.error;
    }
    if (m.type === 'error') this.lastError = m.message;
    // An estimate may finish after Start or Cancel closed the form: nobody is left to tell.
    if (!this.disposed) void this.panel.webview.postMessage(m);
  }

  private parameters(model: string): number | null {
    return model ? describeModel(model, 'folder', model).parameters : null;
  }

  private async onMessage(m: FinetunePageMessage): Promise<void> {
    if ('values' in m) this.values = m.values;
    switch (m.type) {
      case 'ready': {
        const model = this.host.model ?? this.host.models[0]?.value ?? '';
        const dataset = this.host.dataset ?? this.host.datasets[0]?.value ?? '';
        const values = initialValues(model, dataset, this.parameters(model), this.host.settings);
        this.post({
          type: 'init',
          models: this.host.models,
          datasets: this.host.datasets,
          values,
          presets: PRESETS,
        });
        return this.estimate(values);
      }
      case 'modelChanged': {
        const lr =
          this.host.settings.learningRate ||
          defaultLearningRate(m.values.mode, this.parameters(m.values.model));
        const name = runName(m.values.model, m.values.dataset, m.values.mode);
        this.post({ type: 'defaults', values: { lr, name } });
        return this.estimate({ ...m.values, lr, name });
      }
      case 'defaultsApplied':
        this.defaultsApplied++;
        return;
      case 'estimate':
        return this.estimate(m.values);
      case 'start': {
        const asked = specFromForm(m.values);
        if (typeof asked === 'string') return this.post({ type: 'error', message: asked });
        const runDir = this.host.start(asked.spec, asked.title);
        if (!runDir)
          return this.post({ type: 'error', message: 'The run did not start (see the notification).' });
        FinetunePanel.lastStarted = runDir;
        this.panel.dispose();
        return;
      }
      case 'handoff': {
        const asked = specFromForm(m.values);
        if (typeof asked === 'string') return this.post({ type: 'error', message: asked });
        FinetunePanel.lastHandoff = await vscode.commands.executeCommand<string | undefined>(
          'localtune.trainElsewhere',
          asked.spec,
          asked.title,
          this.handoffArgs,
        );
        return;
      }
      case 'cancel':
        this.panel.dispose();
        return;
    }
  }

  /** Measures (or reuses) the calibration for these values and posts the estimate; one at a time. */
  private async estimate(values: FinetuneValues): Promise<void> {
    const asked = specFromForm(values);
    if (typeof asked === 'string') return this.post({ type: 'estimate', estimate: null, error: asked });
    if (this.estimating) {
      this.pendingEstimate = values;
      return;
    }
    this.estimating = true;
    try {
      const spec = { ...asked.spec, outDir: '' };
      const cacheFile = join(this.host.workspace, '.localtune', 'estimates.json');
      const key = calibrationKey(spec);
      let cal = cachedCalibration(cacheFile, key);
      const cached = cal !== undefined;
      if (!cal) {
        this.post({ type: 'estimating' });
        cal = await this.host.calibrate(spec);
        if (cal) cacheCalibration(cacheFile, cal);
      }
      if (!cal)
        return this.post({
          type: 'estimate',
          estimate: null,
          error: 'The estimate could not be measured (see the LocalTune log).',
        });
      const e = estimateRun(spec, cal, { total: totalmem(), free: freemem() });
      this.post({
        type: 'estimate',
        estimate: {
          ...e,
          measuredAt: cal.measuredAt,
          cached,
          stepSeconds: cal.stepSeconds,
          setupSeconds: e.phases.untilFirstStep,
          evaluations: e.phases.evaluations.count,
          checkpoints: e.phases.checkpoints.count,
        },
      });
    } finally {
      this.estimating = false;
      const next = this.pendingEstimate;
      this.pendingEstimate = undefined;
      if (next) void this.estimate(next);
    }
  }
}
