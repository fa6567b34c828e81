/**
 * Start fine-tuning, Stop and Resume, and the dashboard's Stop / Resume buttons. Start asks with
 * quick picks whose first item is the sensible default (base model, dataset, preset), so a
 * first-time user can press Enter through it; tests and scripts pass `StartArgs` instead.
 */
import { basename, join } from 'node:path';
import * as vscode from 'vscode';
import { evaluationTarget, verdictLabel, verdictOf } from '../../jobs/runEvaluation';
import { defaultLearningRate } from '../../jobs/trainDefaults';
import type { FinetuneValues } from '../../../webview/protocol';
import { DashboardPanel } from '../dashboard/dashboardPanel';
import { FinetunePanel } from '../finetune/finetunePanel';
import { datasetsRoot, listDatasetDirs, readDatasetInfo } from '../datasetInfo';
import { formatCount, formatLoss } from '../format';
import { describeModel, isModelDir } from '../modelCatalog';
import { settings } from '../settings';
import type { DatasetNode } from '../trees/datasetsTree';
import type { ModelNode } from '../trees/modelsTree';
import type { RunNode } from '../trees/runsTree';
import { command, ensureLocaltuneDir, guarded, needWorkspace, runDirOf, type CommandDeps } from './common';
import { buildDataset, datasetFitsModel } from './datasetBuild';
import { evaluateRun } from './evaluation';
import { modelFolder } from './modelFolder';

/** Full fine-tuning is offered (and cheap) up to this many parameters. */
const FULL_FINETUNE_MAX_PARAMS = 200e6;

/** Arguments Start fine-tuning accepts instead of asking (tests, scripts). */
export interface StartArgs {
  model?: string;
  dataset?: string;
  preset?: 'lora' | 'full';
  steps?: number;
  title?: string;
}

export function registerTraining(d: CommandDeps): vscode.Disposable[] {
  const { training, log } = d;

  async function pickModel(): Promise<string | undefined> {
    const nodes = d.models.models();
    type Item = vscode.QuickPickItem & { value: string };
    const items: Item[] = [];
    for (const n of nodes) {
      if (n.kind === 'model' && n.entry.supported)
        items.push({
          label: n.entry.label,
          description: [
            n.isDefault ? 'default' : '',
            n.entry.parameters ? `${formatCount(n.entry.parameters)} params` : '',
          ]
            .filter(Boolean)
            .join(' · '),
          detail: n.entry.dir,
          value: n.entry.dir,
        });
      if (n.kind === 'missing-default')
        items.push({ label: n.id, description: 'default · download from the Hugging Face hub', value: n.id });
    }
    items.push({ label: '$(folder) Other model folder…', value: '' });
    const pick = await vscode.window.showQuickPick(items, {
      title: 'Fine-tune: base model (1/3)',
      placeHolder: 'Enter takes the default',
    });
    if (!pick) return undefined;
    if (pick.value) return modelFolder(d, pick.value);
    const folder = await vscode.window.showOpenDialog({
      canSelectFolders: true,
      canSelectFiles: false,
      openLabel: 'Use this model',
    });
    return folder?.[0]?.fsPath;
  }

  async function pickDataset(ws: string, modelDir: string): Promise<string | undefined> {
    type Item = vscode.QuickPickItem & { value: string };
    const infos = listDatasetDirs(ws).flatMap((dir) => {
      try {
        return [readDatasetInfo(dir)];
      } catch {
        return [];
      }
    });
    // Datasets tokenized for this model first.
    infos.sort(
      (a, b) =>
        Number(b.manifest.tokenizer.modelPath === modelDir) -
        Number(a.manifest.tokenizer.modelPath === modelDir),
    );
    const items: Item[] = infos.map((i) => ({
      label: i.name,
      description: `${formatCount(i.manifest.tokens.train)} train tokens${i.manifest.tokenizer.modelPath === modelDir ? '' : ' · built for another model'}`,
      value: i.dir,
    }));
    items.push({ label: '$(add) Build a dataset from this workspace', value: '' });
    const pick = await vscode.window.showQuickPick(items, {
      title: 'Fine-tune: dataset (2/3)',
      placeHolder: 'Enter takes the first',
    });
    if (!pick) return undefined;
    if (pick.value) return pick.value;
    return buildDataset(
      d,
      [ws],
      ['.localtune/'],
      join(datasetsRoot(ws), `${basename(ws)}-${basename(modelDir)}`),
      modelDir,
    );
  }

  async function pickPreset(modelDir: string): Promise<'lora' | 'full' | undefined> {
    const params = describeModel(modelDir, 'folder', basename(modelDir)).parameters;
    const t = settings().training;
    type Item = vscode.QuickPickItem & { value: 'lora' | 'full' };
    const items: Item[] = [
      {
        label: 'LoRA',
        description: 'recommended',
        detail: `Small adapters beside frozen weights: fast, little memory. rank ${t.loraRank}, lr ${t.learningRate || defaultLearningRate('lora', params)}, ${t.steps || 'one epoch of'} steps`,
        value: 'lora',
      },
    ];
    if (params !== null && params <= FULL_FINETUNE_MAX_PARAMS)
      items.push({
        label: 'Full fine-tune',
        description: `small model (${formatCount(params)} params)`,
        detail: `Every weight is trained: about ${formatCount(params * 16)}B of memory for weights and optimizer. lr ${t.learningRate || defaultLearningRate('full', params)}`,
        value: 'full',
      });
    const pick = await vscode.window.showQuickPick(items, {
      title: 'Fine-tune: preset (3/3)',
      placeHolder: 'Enter takes LoRA',
    });
    return pick?.value;
  }

  async function startFineTuning(args: StartArgs = {}): Promise<string | undefined> {
    const ws = needWorkspace();
    if (!ws) return undefined;
    if (training.activeRun) {
      void vscode.window.showWarningMessage(
        'LocalTune: a fine-tuning job is already running in this window; stop it first.',
      );
      return undefined;
    }
    const modelDir = args.model ? await modelFolder(d, args.model) : await pickModel();
    if (!modelDir) return undefined;
    if (!isModelDir(modelDir)) throw new Error(`${modelDir} is not a model folder (no config.json)`);
    const dataset = args.dataset ?? (await pickDataset(ws, modelDir));
    if (!dataset) return undefined;
    // Another tokenizer's ids would fail at step 1 (or train on the wrong words): offer a rebuild.
    if (!(await datasetFitsModel(d, dataset, modelDir))) return undefined;
    const mode = args.preset ?? (await pickPreset(modelDir));
    if (!mode) return undefined;
    ensureLocaltuneDir(ws);
    const t = settings().training;
    const title =
      args.title ?? `${basename(modelDir)} · ${basename(dataset)} · ${mode === 'lora' ? 'LoRA' : 'full'}`;
    return training.start(
      ws,
      {
        modelDir,
        data: [dataset],
        mode,
        loraR: t.loraRank,
        steps: args.steps ?? (t.steps || undefined),
        // 0 in Settings: by model size and mode (trainOptionsFrom applies trainDefaults.ts).
        lr: t.learningRate || undefined,
        maxSeqLen: t.seqLen,
        checkpointEvery: t.checkpointEvery,
        evalEvery: t.evalEvery,
        // 0 turns early stopping off; keep-best is trainOptionsFrom's default.
        patience: t.patience,
      },
      title,
    );
  }

  /** The Fine-tune form, on the workspace's models and datasets. */
  function openForm(o: { model?: string; dataset?: string }): undefined {
    const ws = needWorkspace();
    if (!ws) return undefined;
    const models = d.models.models().flatMap((n) =>
      n.kind === 'model' && n.entry.supported
        ? [
            {
              value: n.entry.dir,
              label: n.entry.label,
              description: n.entry.parameters ? `${formatCount(n.entry.parameters)} params` : undefined,
            },
          ]
        : [],
    );
    const datasets = listDatasetDirs(ws).flatMap((dir) => {
      try {
        const i = readDatasetInfo(dir);
        return [
          { value: dir, label: i.name, description: `${formatCount(i.manifest.tokens.train)} train tokens` },
        ];
      } catch {
        return [];
      }
    });
    const t = settings().training;
    FinetunePanel.show({
      extensionUri: d.context.extensionUri,
      workspace: ws,
      models,
      datasets,
      model: o.model,
      dataset: o.dataset,
      settings: { seqLen: t.seqLen, learningRate: t.learningRate },
      calibrate: (spec) => training.calibrate(spec),
      start: (spec, title) => {
        ensureLocaltuneDir(ws);
        return training.start(ws, spec, title);
      },
    });
    return undefined;
  }

  const stop = guarded(log, 'localtune.stop', (arg?: RunNode | string) => training.stop(runDirOf(arg)));
  const resume = guarded(log, 'localtune.resume', async (arg?: RunNode | string) => {
    const ws = needWorkspace();
    if (!ws) return undefined;
    let runDir = runDirOf(arg);
    if (!runDir) {
      const resumable = d.runs.runs().filter((r) => r.resumable);
      if (resumable.length === 0) {
        void vscode.window.showInformationMessage('LocalTune: no stopped run to resume.');
        return undefined;
      }
      runDir = (
        await vscode.window.showQuickPick(
          resumable.map((r) => ({
            label: r.record?.title ?? r.id,
            description: `${r.status} at step ${r.step}`,
            value: r.runDir,
          })),
        )
      )?.value;
    }
    return runDir ? training.resume(ws, runDir) : undefined;
  });

  /**
   * The end of every finished run: the tuned model against its base on the dataset's held-out
   * files, then the verdict — the Runs view and the dashboard show it too (eval.json).
   */
  async function evaluateFinished(runDir: string, title: string): Promise<void> {
    const useIt = 'Use for Completions';
    const dashboard = 'Show Dashboard';
    const offer = (message: string, warn: boolean, ...actions: string[]) =>
      void (warn ? vscode.window.showWarningMessage : vscode.window.showInformationMessage)(
        `LocalTune: ${title} ${message}`,
        ...actions,
      ).then((pick) => {
        if (pick === useIt) void vscode.commands.executeCommand('localtune.useForCompletions', runDir);
        if (pick === dashboard) training.showDashboard(runDir, title);
      });
    const target = evaluationTarget(runDir);
    // Loose files have no held-out split to judge on: nothing to evaluate.
    const report =
      settings().training.evaluateAfterRun && typeof target !== 'string' && target.datasetDir
        ? await evaluateRun({ workerPath: training.workerPath, log }, runDir)
        : undefined;
    d.runs.refresh();
    const verdict = report ? verdictOf(report) : null;
    if (!report || !verdict) return offer('finished.', false, useIt, dashboard);
    const loss = `validation loss ${formatLoss(report.base.validationLoss)} → ${formatLoss(report.tuned?.validationLoss)}`;
    if (verdict === 'worse')
      return offer(`finished, but the tuned model is ${verdictLabel(verdict)} (${loss}).`, true, dashboard);
    offer(`finished: ${verdict} than the base model on held-out files (${loss}).`, false, useIt, dashboard);
  }

  return [
    training.onDidEndRun(({ runDir, title, outcome }) => {
      if (outcome.status === 'finished') void evaluateFinished(runDir, title);
    }),
    // The Fine-tune form; scripts and tests that pass StartArgs start directly with the same defaults.
    command(log, 'localtune.startFineTuning', (args?: StartArgs | ModelNode | DatasetNode) => {
      if (args && 'kind' in args) {
        if (args.kind === 'model') return openForm({ model: args.entry.dir });
        if (args.kind === 'dataset') return openForm({ dataset: args.dir });
        return openForm({});
      }
      return args ? startFineTuning(args) : openForm({});
    }),
    // The wizard of quick picks, for those who prefer it (and screen readers that like it better).
    command(log, 'localtune.startFineTuningQuick', () => startFineTuning()),
    // For the e2e tests: the open form's state, and Start with some values changed.
    command(log, 'localtune.finetune.debugState', () => FinetunePanel.debugState()),
    command(log, 'localtune.finetune.debugHandoff', (args: { engine: string; outDir: string }) =>
      FinetunePanel.handOff(args),
    ),
    command(log, 'localtune.finetune.debugStart', (values?: Partial<FinetuneValues>) =>
      FinetunePanel.submit(values ?? {}),
    ),
    vscode.commands.registerCommand('localtune.stop', stop),
    vscode.commands.registerCommand('localtune.resume', resume),
    DashboardPanel.handle({ stop, resume }),
  ];
}
