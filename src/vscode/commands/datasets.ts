/**
 * The Datasets view and its commands: build a dataset from the workspace (asking first when it
 * exists), add files to one, rebuild it (for its model or another), leave a file out, include a
 * key file anyway, edit its options, open its manifest, preview its samples (decoded in the
 * worker). A file watcher marks a dataset out of date when its workspace changes.
 */
import { existsSync } from 'node:fs';
import { basename, join, relative, sep } from 'node:path';
import * as vscode from 'vscode';
import { hubCacheDir } from '../../engine/hub/hub';
import { DEFAULT_DATASET_OPTIONS } from '../../data/datasetConfig';
import { MANIFEST_FILE } from '../../data/manifest';
import { previewLines } from '../../jobs/datasetPreview';
import {
  builtForModel,
  datasetConfigOf,
  datasetsRoot,
  listDatasetDirs,
  readDatasetInfo,
  type DatasetInfo,
} from '../datasetInfo';
import { cachedHubModel, isLocalFolder } from '../modelCatalog';
import { settings } from '../settings';
import type { DatasetNode } from '../trees/datasetsTree';
import { command, datasetDirOf, needWorkspace, workspaceRoot, type CommandDeps } from './common';
import { buildDataset, rebuildDataset } from './datasetBuild';
import { csvColumnsFor } from './csvColumns';
import { editDatasetOptions } from './datasetOptions';
import { modelFolder } from './modelFolder';

/** How many samples Preview Samples decodes. */
const PREVIEW_SAMPLES = 5;
/** Quiet time after the last file event before the workspace is compared with the datasets. */
const WATCH_DEBOUNCE_MS = 1000;

export function registerDatasets(d: CommandDeps): vscode.Disposable[] {
  const { log } = d;
  // The default model's folder when it is on disk already (the view never downloads).
  d.datasets.followDefaultModel(async () => {
    const id = settings().defaultModel;
    if (isLocalFolder(id)) return id;
    return (await cachedHubModel(id, hubCacheDir())) ?? cachedHubModel(id, d.downloadCache());
  });

  /** A file row's path as a pattern anchored at its source (`/src/a.ts`). */
  const patternOf = (info: DatasetInfo, path: string) => {
    const source = info.sources.find((s) => path.startsWith(s.path + sep));
    return source ? '/' + relative(source.path, path).split(sep).join('/') : path;
  };

  return [
    vscode.window.registerTreeDataProvider('localtune.datasets', d.datasets),
    watchWorkspace(d),
    vscode.workspace.onDidChangeConfiguration((e) => {
      if (e.affectsConfiguration('localtune.defaultModel')) d.datasets.refresh();
    }),
    // `existing` answers the "dataset exists" question ahead (scripts and tests), as the pick would.
    command(log, 'localtune.buildDataset', async (answer?: { existing?: 'rebuild' | 'new' }) => {
      const ws = needWorkspace();
      if (!ws) return undefined;
      const modelDir = await modelFolder(d, settings().defaultModel);
      if (!modelDir) return undefined;
      let outDir = join(datasetsRoot(ws), basename(ws));
      // An existing dataset is never replaced: it is rebuilt with its own options and exclusions.
      // When it has options of its own, or another model's tokenizer, the user says which.
      if (existsSync(join(outDir, MANIFEST_FILE)) && isPlain(readDatasetInfo(outDir), modelDir))
        return rebuildDataset(d, outDir, { modelDir });
      if (existsSync(join(outDir, MANIFEST_FILE))) {
        const name = basename(outDir);
        let fresh = 2;
        while (existsSync(`${outDir}-${fresh}`)) fresh++;
        type Item = vscode.QuickPickItem & { value: 'rebuild' | 'new' };
        const ahead = answer?.existing && { value: answer.existing };
        const pick =
          ahead ||
          (await vscode.window.showQuickPick<Item>(
            [
              {
                label: `Rebuild ${name}`,
                description: 'keeps its options and exclusions',
                detail: `Built again from the workspace with ${basename(modelDir)}'s tokenizer`,
                value: 'rebuild',
              },
              { label: `New dataset ${name}-${fresh}`, description: 'default options', value: 'new' },
            ],
            { title: `Dataset ${name} exists`, placeHolder: 'Enter rebuilds it; Escape leaves it as it is' },
          ));
        if (!pick) return undefined;
        if (pick.value === 'rebuild') return rebuildDataset(d, outDir, { modelDir });
        outDir = `${outDir}-${fresh}`;
      }
      return buildDataset(d, [ws], ['.localtune/'], outDir, modelDir, {
        split: settings().datasets.split,
      });
    }),
    command(
      log,
      'localtune.addFilesToDataset',
      async (arg?: vscode.Uri | DatasetNode, selected?: vscode.Uri[]) => {
        const ws = needWorkspace();
        if (!ws) return undefined;
        let files =
          arg instanceof vscode.Uri ? (selected?.length ? selected : [arg]).map((u) => u.fsPath) : [];
        if (files.length === 0)
          files = (
            (await vscode.window.showOpenDialog({
              canSelectMany: true,
              openLabel: 'Add to dataset',
              filters: { 'Text, JSONL and CSV': ['txt', 'md', 'jsonl', 'json', 'csv', 'tsv', '*'] },
            })) ?? []
          ).map((u) => u.fsPath);
        if (files.length === 0) return undefined;
        let dir = arg instanceof vscode.Uri ? undefined : datasetDirOf(arg);
        if (!dir) {
          const dirs = listDatasetDirs(ws);
          if (dirs.length === 0) {
            const modelDir = await modelFolder(d, settings().defaultModel);
            if (!modelDir) return undefined;
            const csvColumns = await csvColumnsFor(files, undefined);
            if (csvColumns === null) return undefined;
            return buildDataset(d, files, [], join(datasetsRoot(ws), basename(ws)), modelDir, { csvColumns });
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
        const csvColumns = await csvColumnsFor(files, datasetConfigOf(readDatasetInfo(dir)).csvColumns);
        if (csvColumns === null) return undefined;
        return rebuildDataset(d, dir, { addSources: files, csvColumns });
      },
    ),
    command(log, 'localtune.rebuildDataset', (arg?: DatasetNode | string) => {
      const dir = datasetDirOf(arg) ?? listDatasetDirs(workspaceRoot() ?? '')[0];
      return dir ? rebuildDataset(d, dir) : vscode.commands.executeCommand('localtune.buildDataset');
    }),
    command(log, 'localtune.rebuildDatasetForModel', async (arg?: DatasetNode | string, model?: string) => {
      const dir = datasetDirOf(arg) ?? listDatasetDirs(workspaceRoot() ?? '')[0];
      if (!dir) return vscode.commands.executeCommand('localtune.buildDataset');
      const modelDir = await modelFolder(d, model ?? settings().defaultModel);
      return modelDir ? rebuildDataset(d, dir, { modelDir }) : undefined;
    }),
    command(log, 'localtune.excludeFile', async (arg?: DatasetNode) => {
      if (arg?.kind !== 'file') return undefined;
      const pattern = patternOf(arg.dataset, arg.file.path);
      // No modal: the rebuild is the confirmation, and Undo takes the pattern out again.
      const dir = await rebuildDataset(d, arg.dataset.dir, { addExclude: [pattern] });
      if (dir)
        void vscode.window
          .showInformationMessage(`LocalTune: ${pattern} left out of ${arg.dataset.name}.`, 'Undo')
          .then((undo) => (undo ? dropPattern(d, dir, 'exclude', pattern) : undefined));
      return dir;
    }),
    command(log, 'localtune.includeAnyway', async (arg?: DatasetNode) => {
      if (arg?.kind !== 'file') return undefined;
      const pattern = patternOf(arg.dataset, arg.file.path);
      const dir = await rebuildDataset(d, arg.dataset.dir, { addInclude: [pattern] });
      if (dir)
        void vscode.window
          .showWarningMessage(
            `LocalTune: ${pattern} is read into ${arg.dataset.name} (secrets found in it are replaced by placeholders).`,
            'Undo',
          )
          .then((undo) => (undo ? dropPattern(d, dir, 'include', pattern) : undefined));
      return dir;
    }),
    command(log, 'localtune.editDatasetOptions', (arg?: DatasetNode | string, changes?: object) => {
      const dir = datasetDirOf(arg) ?? listDatasetDirs(workspaceRoot() ?? '')[0];
      if (!dir) return vscode.commands.executeCommand('localtune.buildDataset');
      return editDatasetOptions(d, dir, changes);
    }),
    command(log, 'localtune.openManifest', async (arg?: DatasetNode | string) => {
      const dir = datasetDirOf(arg);
      if (dir) await vscode.window.showTextDocument(vscode.Uri.file(join(dir, MANIFEST_FILE)));
    }),
    command(log, 'localtune.previewSamples', async (arg?: DatasetNode | string) => {
      const dir = datasetDirOf(arg);
      if (!dir) return;
      // The worker decodes the samples, so the tokenizer loads outside the host.
      const preview = await d.training.previewDataset(dir, PREVIEW_SAMPLES);
      if (!preview) return;
      const content = previewLines(preview).join('\n') + '\n';
      const doc = await vscode.workspace.openTextDocument({ content, language: 'markdown' });
      await vscode.window.showTextDocument(doc, { preview: true });
    }),
  ];
}

/** Whether the dataset is what Build from Workspace makes (default options, the split setting, this model): rebuilding it loses nothing. */
function isPlain(info: DatasetInfo, modelDir: string): boolean {
  const c = datasetConfigOf(info);
  const o = DEFAULT_DATASET_OPTIONS;
  return (
    builtForModel(info.manifest, modelDir) &&
    c.include.length === 0 &&
    c.exclude.join('\n') === '.localtune/' &&
    c.fimRate === o.fimRate &&
    c.spmRate === o.spmRate &&
    c.split === settings().datasets.split &&
    c.valFraction === o.valFraction
  );
}

/** Takes an include or exclude pattern out of the dataset's config again and rebuilds. */
function dropPattern(d: CommandDeps, dir: string, list: 'include' | 'exclude', pattern: string) {
  const config = datasetConfigOf(readDatasetInfo(dir));
  return editDatasetOptions(d, dir, { [list]: config[list].filter((p) => p !== pattern) });
}

/** Files created, deleted or changed outside `.localtune/` make the view compare again (debounced). */
function watchWorkspace(d: CommandDeps): vscode.Disposable {
  const watcher = vscode.workspace.createFileSystemWatcher('**/*');
  let timer: NodeJS.Timeout | undefined;
  const onEvent = (uri: vscode.Uri) => {
    const ws = workspaceRoot();
    if (!ws || uri.fsPath.startsWith(join(ws, '.localtune'))) return;
    clearTimeout(timer);
    timer = setTimeout(() => {
      try {
        d.datasets.checkWorkspace();
      } catch (err) {
        d.log.warn(`datasets: comparing with the workspace failed: ${(err as Error).message}`);
      }
    }, WATCH_DEBOUNCE_MS);
  };
  const subs = [
    watcher,
    watcher.onDidCreate(onEvent),
    watcher.onDidDelete(onEvent),
    watcher.onDidChange(onEvent),
  ];
  return new vscode.Disposable(() => {
    clearTimeout(timer);
    for (const s of subs) s.dispose();
  });
}
