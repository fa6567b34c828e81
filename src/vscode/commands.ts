/**
 * The `LocalTune: …` commands. Each takes the tree node it was invoked on (or a path, for tests and
 * scripts) and otherwise asks with quick picks whose first item is the sensible default, so a
 * first-time user can press Enter through Start fine-tuning.
 */
import { fork } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { basename, join, relative } from 'node:path';
import * as vscode from 'vscode';
import { readManifest } from '../data/datasetFiles';
import { MANIFEST_FILE } from '../data/manifest';
import { hubCacheDir, resolveModel } from '../engine/hub/hub';
import { formatProgress } from '../engine/hub/hubProgress';
import { RUN_FILE, summarizeRun } from '../jobs/runs';
import { TRAIN_DEFAULTS } from '../jobs/trainSpec';
import { resolveServedModel } from './completionModel';
import { DashboardPanel } from './dashboardPanel';
import { datasetsRoot, listDatasetDirs, readDatasetInfo } from './datasetInfo';
import type { DatasetNode, DatasetsTree } from './datasetsTree';
import { formatCount } from './format';
import { cachedHubModel, describeModel, isLocalFolder, isModelDir } from './modelCatalog';
import type { ModelNode, ModelsTree } from './modelsTree';
import type { RunNode, RunsTree } from './runsTree';
import { settings } from './settings';
import type { TrainingController } from './training';

/** Full fine-tuning is offered (and cheap) up to this many parameters. */
const FULL_FINETUNE_MAX_PARAMS = 200e6;

export interface CommandDeps {
  context: vscode.ExtensionContext;
  training: TrainingController;
  datasets: DatasetsTree;
  runs: RunsTree;
  models: ModelsTree;
  log: vscode.LogOutputChannel;
  refresh(): void;
  /** Where hub downloads go. */
  downloadCache(): string;
}

/** Arguments Start fine-tuning accepts instead of asking (tests, scripts). */
export interface StartArgs {
  model?: string;
  dataset?: string;
  preset?: 'lora' | 'full';
  steps?: number;
  title?: string;
}

function workspaceRoot(): string | undefined {
  return vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
}

function needWorkspace(): string | undefined {
  const ws = workspaceRoot();
  if (!ws)
    void vscode.window.showWarningMessage(
      'LocalTune: open a folder first; datasets and runs live in its .localtune folder.',
    );
  return ws;
}

/** `.localtune/` with a .gitignore, so datasets and runs never end up in the user's commits. */
function ensureLocaltuneDir(ws: string): void {
  const dir = join(ws, '.localtune');
  mkdirSync(dir, { recursive: true });
  const ignore = join(dir, '.gitignore');
  if (!existsSync(ignore)) writeFileSync(ignore, '# LocalTune datasets and runs: local artifacts\n*\n');
}

function runDirOf(arg: unknown): string | undefined {
  if (typeof arg === 'string') return arg;
  const node = arg as RunNode | undefined;
  return node?.run?.runDir;
}

function datasetDirOf(arg: unknown): string | undefined {
  if (typeof arg === 'string') return arg;
  const node = arg as DatasetNode | undefined;
  if (node?.kind === 'dataset') return node.dir;
  if (node?.kind === 'source' || node?.kind === 'file') return node.dataset.dir;
  return undefined;
}

export function registerCommands(d: CommandDeps): vscode.Disposable[] {
  const { training, log } = d;
  const cmd = (id: string, fn: (...args: never[]) => unknown) =>
    vscode.commands.registerCommand(id, async (...args: never[]) => {
      try {
        return await fn(...args);
      } catch (err) {
        log.error(`${id}: ${(err as Error).stack ?? err}`);
        void vscode.window
          .showErrorMessage(`LocalTune: ${(err as Error).message}`, 'Show log')
          .then((p) => p && log.show());
        return undefined;
      }
    });

  /** A local folder for a model setting or pick: as is, from the hub cache, or downloaded with progress. */
  async function modelFolder(idOrDir: string): Promise<string | undefined> {
    if (isLocalFolder(idOrDir)) return idOrDir;
    const cached =
      (await cachedHubModel(idOrDir, hubCacheDir())) ?? (await cachedHubModel(idOrDir, d.downloadCache()));
    if (cached) return cached;
    return vscode.window.withProgress(
      {
        location: vscode.ProgressLocation.Notification,
        title: `LocalTune: downloading ${idOrDir}`,
        cancellable: true,
      },
      async (progress, token) => {
        const abort = new AbortController();
        token.onCancellationRequested(() => abort.abort());
        try {
          const dir = await resolveModel(idOrDir, {
            cacheDir: d.downloadCache(),
            signal: abort.signal,
            onProgress: (p) => progress.report({ message: formatProgress(p) }),
          });
          log.info(`model ${idOrDir} in ${dir}`);
          d.models.refresh();
          return dir;
        } catch (err) {
          if (abort.signal.aborted) return undefined;
          throw err;
        }
      },
    );
  }

  async function buildDataset(sources: string[], exclude: string[], outDir: string, modelDir: string) {
    const ws = workspaceRoot();
    if (ws) ensureLocaltuneDir(ws);
    const dir = await training.buildDataset({ kind: 'dataset', sources, modelDir, outDir, exclude });
    d.datasets.refresh();
    if (dir) {
      const m = readManifest(join(dir, MANIFEST_FILE));
      log.info(`dataset ${m.name}: ${m.tokens.train} train / ${m.tokens.validation} validation tokens`);
      void vscode.commands.executeCommand('localtune.datasets.focus');
    }
    return dir;
  }

  async function rebuild(dir: string, change: { addSources?: string[]; addExclude?: string[] } = {}) {
    const m = readManifest(join(dir, MANIFEST_FILE));
    const sources = [
      ...m.sources.map((s) => s.path),
      ...(change.addSources ?? []).filter((p) => !m.sources.some((s) => s.path === p)),
    ];
    const exclude = [...new Set([...m.filters.exclude, ...(change.addExclude ?? [])])];
    return buildDataset(sources, exclude, dir, m.tokenizer.modelPath);
  }

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
    if (pick.value) return modelFolder(pick.value);
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
        detail: `Small adapters beside frozen weights: fast, little memory. rank ${t.loraRank}, lr ${t.learningRate || TRAIN_DEFAULTS.lr.lora}, ${t.steps || 'one epoch of'} steps`,
        value: 'lora',
      },
    ];
    if (params !== null && params <= FULL_FINETUNE_MAX_PARAMS)
      items.push({
        label: 'Full fine-tune',
        description: `small model (${formatCount(params)} params)`,
        detail: `Every weight is trained: about ${formatCount(params * 16)}B of memory for weights and optimizer. lr ${t.learningRate || TRAIN_DEFAULTS.lr.full}`,
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
    const modelDir = args.model ? await modelFolder(args.model) : await pickModel();
    if (!modelDir) return undefined;
    if (!isModelDir(modelDir)) throw new Error(`${modelDir} is not a model folder (no config.json)`);
    const dataset = args.dataset ?? (await pickDataset(ws, modelDir));
    if (!dataset) return undefined;
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
        lr: t.learningRate || undefined,
        maxSeqLen: t.seqLen,
        checkpointEvery: t.checkpointEvery,
        evalEvery: t.evalEvery,
        patience: t.patience || undefined,
      },
      title,
    );
  }

  return [
    cmd('localtune.buildDataset', async () => {
      const ws = needWorkspace();
      if (!ws) return undefined;
      const modelDir = await modelFolder(settings().defaultModel);
      if (!modelDir) return undefined;
      return buildDataset([ws], ['.localtune/'], join(datasetsRoot(ws), basename(ws)), modelDir);
    }),
    cmd('localtune.addFilesToDataset', async (arg?: vscode.Uri | DatasetNode, selected?: vscode.Uri[]) => {
      const ws = needWorkspace();
      if (!ws) return undefined;
      let files = arg instanceof vscode.Uri ? (selected?.length ? selected : [arg]).map((u) => u.fsPath) : [];
      if (files.length === 0)
        files = (
          (await vscode.window.showOpenDialog({
            canSelectMany: true,
            openLabel: 'Add to dataset',
            filters: { 'Text and JSONL': ['txt', 'md', 'jsonl', 'json', '*'] },
          })) ?? []
        ).map((u) => u.fsPath);
      if (files.length === 0) return undefined;
      let dir = arg instanceof vscode.Uri ? undefined : datasetDirOf(arg);
      if (!dir) {
        const dirs = listDatasetDirs(ws);
        if (dirs.length === 0) {
          const modelDir = await modelFolder(settings().defaultModel);
          if (!modelDir) return undefined;
          return buildDataset(files, [], join(datasetsRoot(ws), basename(ws)), modelDir);
        }
        const pick =
          dirs.length === 1
            ? dirs[0]
            : (
                await vscode.window.showQuickPick(
                  dirs.map((p) => ({ label: basename(p), value: p })),
                  { title: 'Add to which dataset?' },
                )
              )?.value;
        if (!pick) return undefined;
        dir = pick;
      }
      return rebuild(dir, { addSources: files });
    }),
    cmd('localtune.rebuildDataset', (arg?: DatasetNode | string) => {
      const dir = datasetDirOf(arg) ?? listDatasetDirs(workspaceRoot() ?? '')[0];
      return dir ? rebuild(dir) : vscode.commands.executeCommand('localtune.buildDataset');
    }),
    cmd('localtune.excludeFile', async (arg?: DatasetNode) => {
      if (arg?.kind !== 'file') return undefined;
      const source = arg.dataset.sources.find((s) => arg.file.absPath.startsWith(s.path + '/'));
      const pattern = source ? '/' + relative(source.path, arg.file.absPath) : arg.file.fileId;
      const ok = await vscode.window.showWarningMessage(
        `Leave ${pattern} out of ${arg.dataset.name} and rebuild it?`,
        { modal: true },
        'Exclude and rebuild',
      );
      if (ok) return rebuild(arg.dataset.dir, { addExclude: [pattern] });
      return undefined;
    }),
    cmd('localtune.openManifest', async (arg?: DatasetNode | string) => {
      const dir = datasetDirOf(arg);
      if (dir) await vscode.window.showTextDocument(vscode.Uri.file(join(dir, MANIFEST_FILE)));
    }),
    cmd('localtune.previewSamples', async (arg?: DatasetNode | string) => {
      const dir = datasetDirOf(arg);
      if (!dir) return;
      // The CLI's `dataset show` decodes samples; run in a child so the tokenizer loads outside the host.
      const text = await new Promise<string>((resolve, reject) => {
        const child = fork(
          d.context.asAbsolutePath('dist/cli.js'),
          ['dataset', 'show', dir, '--samples', '5'],
          { silent: true },
        );
        let out = '';
        child.stdout?.on('data', (c) => (out += c));
        child.stderr?.on('data', (c) => (out += c));
        child.on('error', reject);
        child.on('exit', () => resolve(out));
      });
      const doc = await vscode.workspace.openTextDocument({ content: text, language: 'markdown' });
      await vscode.window.showTextDocument(doc, { preview: true });
    }),
    cmd('localtune.startFineTuning', (args?: StartArgs | ModelNode | DatasetNode) => {
      if (args && 'kind' in args) {
        if (args.kind === 'model') return startFineTuning({ model: args.entry.dir });
        if (args.kind === 'dataset') return startFineTuning({ dataset: args.dir });
        return startFineTuning();
      }
      return startFineTuning(args);
    }),
    cmd('localtune.stop', (arg?: RunNode | string) => training.stop(runDirOf(arg))),
    cmd('localtune.resume', async (arg?: RunNode | string) => {
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
    }),
    cmd('localtune.showDashboard', async (arg?: RunNode | string) => {
      let runDir = runDirOf(arg) ?? training.activeRun;
      if (!runDir) {
        const runs = d.runs.runs();
        if (runs.length === 0) {
          void vscode.window.showInformationMessage('LocalTune: no runs yet. Start fine-tuning first.');
          return;
        }
        runDir =
          runs.length === 1
            ? runs[0].runDir
            : (
                await vscode.window.showQuickPick(
                  runs.map((r) => ({
                    label: r.record?.title ?? r.id,
                    description: r.status,
                    value: r.runDir,
                  })),
                )
              )?.value;
      }
      if (runDir) training.showDashboard(runDir);
    }),
    cmd('localtune.exportModel', async (arg?: RunNode | string) => {
      const runDir = runDirOf(arg) ?? training.activeRun ?? d.runs.runs()[0]?.runDir;
      if (!runDir) return;
      const r = summarizeRun(runDir);
      const trained =
        r.record?.finalDir && existsSync(r.record.finalDir) ? r.record.finalDir : r.checkpoints.at(-1)?.dir;
      if (!r.record || !trained) {
        void vscode.window.showWarningMessage(
          'LocalTune: this run has no adapter or checkpoint to export yet.',
        );
        return;
      }
      const full = r.record.spec.mode === 'full';
      const dtype = await vscode.window.showQuickPick(
        [
          { label: 'fp32', description: 'exact; the size of the base model', value: 'fp32' as const },
          {
            label: 'int8',
            description: 'weight-only 8-bit: ~4x smaller, faster on CPU',
            value: 'int8' as const,
          },
        ],
        { title: 'LocalTune: export precision' },
      );
      if (!dtype) return;
      const outDir = join(runDir, `export-${dtype.value}-${new Date().toISOString().replace(/[:.]/g, '-')}`);
      const done = await training.exportModel({
        kind: 'export',
        // A full fine-tune's output is a whole model folder; LoRA merges the adapter into the base.
        modelDir: full ? trained : r.record.spec.modelDir,
        adapterDir: full ? undefined : trained,
        outDir,
        dtype: dtype.value,
      });
      if (!done) return;
      const diff =
        done.maxLogitDiff === undefined
          ? ''
          : ` (max logit difference vs fp32: ${done.maxLogitDiff.toFixed(3)})`;
      const pick = await vscode.window.showInformationMessage(
        `LocalTune: exported a transformers.js model folder to ${done.outDir}${diff}.`,
        'Reveal folder',
      );
      if (pick) await vscode.commands.executeCommand('revealFileInOS', vscode.Uri.file(done.outDir));
    }),
    cmd('localtune.useForCompletions', async (arg?: RunNode | string) => {
      // A run (its folder or tree node), or a model / adapter / exported folder given by path.
      const target = runDirOf(arg);
      if (!target) return undefined;
      const isRun = existsSync(join(target, RUN_FILE)) || typeof arg !== 'string';
      const r = isRun ? summarizeRun(target) : undefined;
      const model = !r
        ? target
        : r.record?.finalDir && existsSync(r.record.finalDir)
          ? r.record.finalDir
          : r.checkpoints.at(-1)?.dir;
      if (!model) {
        void vscode.window.showWarningMessage('LocalTune: this run has no adapter or checkpoint yet.');
        return undefined;
      }
      const served = await resolveServedModel(
        model,
        async (id) =>
          (await cachedHubModel(id, hubCacheDir())) ?? (await cachedHubModel(id, d.downloadCache())),
      );
      if ('error' in served) {
        void vscode.window.showWarningMessage(`LocalTune: cannot serve completions: ${served.error}.`);
        return undefined;
      }
      const config = vscode.workspace.getConfiguration('localtune');
      await config.update('completions.model', model, vscode.ConfigurationTarget.Workspace);
      await config.update('completions.enabled', true, vscode.ConfigurationTarget.Workspace);
      await d.context.workspaceState.update('localtune.completionRun', r?.runDir);
      d.runs.refresh();
      void vscode.window.showInformationMessage(`LocalTune: completions now come from ${served.label}.`);
      return model;
    }),
    cmd('localtune.toggleCompletions', async () => {
      const enabled = !settings().completions.enabled;
      await vscode.workspace
        .getConfiguration('localtune')
        .update('completions.enabled', enabled, vscode.ConfigurationTarget.Workspace);
      // Off: the ghost text on screen goes too.
      if (!enabled) await vscode.commands.executeCommand('editor.action.inlineSuggest.hide');
      else if (!settings().completions.model)
        void vscode.window.showInformationMessage(
          'LocalTune: completions are on; choose a run with "Use for Completions" in the Runs view.',
        );
      vscode.window.setStatusBarMessage(`LocalTune completions ${enabled ? 'on' : 'off'}`, 3000);
      return enabled;
    }),
    cmd('localtune.deleteRun', async (arg?: RunNode | string, confirmed?: boolean) => {
      const runDir = runDirOf(arg);
      if (!runDir) return false;
      if (training.activeRun === runDir) {
        void vscode.window.showWarningMessage('LocalTune: stop this run before deleting it.');
        return false;
      }
      const title = summarizeRun(runDir).record?.title ?? basename(runDir);
      const ok =
        confirmed === true ||
        (await vscode.window.showWarningMessage(
          `Delete the run "${title}" with its checkpoints and adapter? This cannot be undone.`,
          { modal: true },
          'Delete',
        )) === 'Delete';
      if (!ok) return false;
      rmSync(runDir, { recursive: true, force: true });
      d.runs.refresh();
      return true;
    }),
    cmd('localtune.addModel', async (preset?: string) => {
      const value =
        typeof preset === 'string'
          ? preset
          : (
              await vscode.window.showQuickPick(
                [
                  { label: '$(folder) Model folder on this machine…', value: '' },
                  { label: '$(cloud-download) Hugging Face hub id…', value: 'hub' },
                ],
                { title: 'Add model' },
              )
            )?.value;
      if (value === undefined) return undefined;
      let dir: string | undefined;
      if (value === '') {
        dir = (
          await vscode.window.showOpenDialog({
            canSelectFolders: true,
            canSelectFiles: false,
            openLabel: 'Add model',
          })
        )?.[0]?.fsPath;
        if (dir && !isModelDir(dir))
          throw new Error(`${dir} has no config.json: not a Hugging Face model folder`);
        if (dir) {
          const folders = settings().modelFolders;
          if (!folders.includes(dir))
            await vscode.workspace
              .getConfiguration('localtune')
              .update('modelFolders', [...folders, dir], vscode.ConfigurationTarget.Global);
        }
      } else {
        const id =
          value === 'hub'
            ? await vscode.window.showInputBox({
                title: 'Hugging Face model id',
                value: 'HuggingFaceTB/SmolLM2-135M',
                prompt: 'org/name[@revision]',
              })
            : value;
        if (id) dir = await modelFolder(id);
      }
      d.models.refresh();
      return dir;
    }),
    cmd('localtune.removeModel', async (arg?: ModelNode) => {
      if (arg?.kind !== 'model') return;
      const folders = settings().modelFolders.filter((f) => f !== arg.entry.dir);
      await vscode.workspace
        .getConfiguration('localtune')
        .update('modelFolders', folders, vscode.ConfigurationTarget.Global);
      d.models.refresh();
    }),
    cmd('localtune.setDefaultModel', async (arg?: ModelNode) => {
      if (arg?.kind !== 'model') return;
      await vscode.workspace
        .getConfiguration('localtune')
        .update('defaultModel', arg.entry.hubId ?? arg.entry.dir, vscode.ConfigurationTarget.Workspace);
      d.models.refresh();
    }),
    cmd('localtune.refresh', () => d.refresh()),
    cmd('localtune.showLog', () => log.show()),
    // For the e2e tests: what the dashboard's page acknowledged having drawn for a run.
    cmd('localtune.dashboard.debugState', (runDir?: string) =>
      runDir ? DashboardPanel.debugState(runDir) : undefined,
    ),
  ];
}
