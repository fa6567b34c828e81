/**
 * LocalTune's entry point: makes the objects the features share (the log, the three trees, the
 * training controller, the completion service), has each feature register its views, commands and
 * dashboard buttons (commands/), and hands every disposable to VS Code. Nothing here does work of
 * its own.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import * as vscode from 'vscode';
import { hubCacheDir } from '../engine/hub/hub';
import type { CommandDeps } from './commands/common';
import { registerCompletions } from './commands/completions';
import { registerDashboard } from './commands/dashboard';
import { registerDatasets } from './commands/datasets';
import { registerEvaluation } from './commands/evaluation';
import { registerGeneral } from './commands/general';
import { registerHandoff } from './commands/handoff';
import { registerModels } from './commands/models';
import { registerPlayground } from './commands/playground';
import { registerRuns } from './commands/runs';
import { registerTraining } from './commands/training';
import { CompletionService } from './completion/completionService';
import { cachedHubModel } from './modelCatalog';
import { TrainingController } from './trainingController';
import { DatasetsTree } from './trees/datasetsTree';
import { ModelsTree } from './trees/modelsTree';
import { RunsTree } from './trees/runsTree';

let training: TrainingController | undefined;

/** What the e2e tests reach through `extension.exports`. */
export interface LocalTuneApi {
  training: TrainingController;
  datasets: DatasetsTree;
  runs: RunsTree;
  models: ModelsTree;
  completions: CompletionService;
  log: vscode.LogOutputChannel;
}

export function activate(context: vscode.ExtensionContext): LocalTuneApi {
  const workspace = () => vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
  const trainWorker = context.asAbsolutePath(join('dist', 'worker', 'train.js'));
  const log = vscode.window.createOutputChannel('LocalTune', { log: true });
  // Downloads go to the user's Hugging Face cache when there is one, else to our own storage.
  const ownCache = join(context.globalStorageUri.fsPath, 'hub');
  const downloadCache = () => (existsSync(hubCacheDir()) ? hubCacheDir() : ownCache);
  const datasets = new DatasetsTree(workspace, (m) => log.warn(m));
  const runs = new RunsTree(workspace, () => context.workspaceState.get<string>('localtune.completionRun'));
  const models = new ModelsTree(() => [...new Set([hubCacheDir(), ownCache])]);
  const refresh = () => {
    datasets.refresh();
    runs.refresh();
    models.refresh();
  };
  training = new TrainingController({
    extensionUri: context.extensionUri,
    workerPath: trainWorker,
    log,
    onRunsChanged: () => {
      runs.refresh();
      datasets.refresh();
    },
  });
  const completions = new CompletionService({
    context,
    log,
    workerPath: context.asAbsolutePath(join('dist', 'worker', 'complete.js')),
    workspace,
    findBase: async (id) => (await cachedHubModel(id, hubCacheDir())) ?? cachedHubModel(id, ownCache),
  });

  const d: CommandDeps = { context, training, datasets, runs, models, log, refresh, downloadCache };
  context.subscriptions.push(
    log,
    training,
    completions,
    datasets,
    ...registerCompletions(d, completions),
    ...registerGeneral(d),
    ...registerDatasets(d),
    ...registerTraining(d),
    ...registerRuns(d),
    ...registerHandoff(d),
    ...registerModels(d),
    ...registerDashboard(d),
    ...registerPlayground(d),
    ...registerEvaluation({ workerPath: trainWorker, log, runs }),
  );
  // A run a window started before a reload is still training: follow it.
  const ws = workspace();
  if (ws) training.reattach(ws);
  return { training, datasets, runs, models, completions, log };
}

/** The window closes or reloads: a training worker goes on until a reloaded window re-attaches, or its lease lapses. */
export function deactivate(): void {
  training?.dispose();
}
