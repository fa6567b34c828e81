/**
 * LocalTune's entry point: wires the views, commands, dashboard and training controller together
 * and hands every disposable to VS Code. Nothing here does work of its own.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import * as vscode from 'vscode';
import { hubCacheDir } from '../engine/hub/hub';
import { registerCommands } from './commands';
import { CompletionProvider } from './completionProvider';
import { CompletionService } from './completionService';
import { DashboardPanel } from './dashboardPanel';
import { registerEvaluation } from './evaluation';
import { DatasetsTree } from './datasetsTree';
import { cachedHubModel } from './modelCatalog';
import { ModelsTree } from './modelsTree';
import { RunsTree } from './runsTree';
import { TrainingController } from './training';

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
  const log = vscode.window.createOutputChannel('LocalTune', { log: true });
  // Downloads go to the user's Hugging Face cache when there is one, else to our own storage.
  const ownCache = join(context.globalStorageUri.fsPath, 'hub');
  const downloadCache = () => (existsSync(hubCacheDir()) ? hubCacheDir() : ownCache);
  const datasets = new DatasetsTree(workspace);
  const runs = new RunsTree(workspace, () => context.workspaceState.get<string>('localtune.completionRun'));
  const models = new ModelsTree(() => [...new Set([hubCacheDir(), ownCache])]);
  const refresh = () => {
    datasets.refresh();
    runs.refresh();
    models.refresh();
  };
  training = new TrainingController({
    extensionUri: context.extensionUri,
    workerPath: context.asAbsolutePath(join('dist', 'worker', 'train.js')),
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
  const showCompletionStats = () => DashboardPanel.setCompletionStats(completions.stats.all());
  showCompletionStats();

  // Runs change on disk (other windows, the CLI): watch the run folders.
  const watcher = vscode.workspace.createFileSystemWatcher(
    '**/.localtune/{runs/*/run.json,runs/*/checkpoints/*,datasets/*/manifest.json}',
  );

  context.subscriptions.push(
    log,
    training,
    completions,
    ...new CompletionProvider(completions, log).register(),
    completions.stats.onDidChange(showCompletionStats),
    watcher,
    watcher.onDidChange(() => runs.refresh()),
    watcher.onDidCreate(refresh),
    watcher.onDidDelete(refresh),
    vscode.window.registerTreeDataProvider('localtune.datasets', datasets),
    vscode.window.registerTreeDataProvider('localtune.runs', runs),
    vscode.window.registerTreeDataProvider('localtune.models', models),
    DashboardPanel.registerSerializer(context),
    DashboardPanel.onDidRequest((r) => {
      const command = {
        stop: 'localtune.stop',
        resume: 'localtune.resume',
        export: 'localtune.exportModel',
        evaluate: 'localtune.evaluate',
        samples: 'localtune.showEvaluationSamples',
      }[r.command];
      void vscode.commands.executeCommand(command, r.runDir);
    }),
    vscode.workspace.onDidChangeConfiguration((e) => e.affectsConfiguration('localtune') && refresh()),
    ...registerCommands({ context, training, datasets, runs, models, log, refresh, downloadCache }),
    ...registerEvaluation({
      workerPath: context.asAbsolutePath(join('dist', 'worker', 'train.js')),
      log,
      onReport: (runDir, report) => DashboardPanel.showEvaluation(runDir, report),
    }),
  );
  return { training, datasets, runs, models, completions, log };
}

/** The window is closing: the worker finishes its step and writes a checkpoint. */
export async function deactivate(): Promise<void> {
  await training?.dispose();
}
