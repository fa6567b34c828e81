/**
 * The Datasets view and its commands: build a dataset from the workspace, add files to one,
 * rebuild it, leave a file out, open its manifest, preview its samples (decoded in the worker).
 */
import { basename, join, relative } from 'node:path';
import * as vscode from 'vscode';
import { MANIFEST_FILE } from '../../data/manifest';
import { previewLines } from '../../jobs/datasetPreview';
import { datasetsRoot, listDatasetDirs } from '../datasetInfo';
import { settings } from '../settings';
import type { DatasetNode } from '../trees/datasetsTree';
import { command, datasetDirOf, needWorkspace, workspaceRoot, type CommandDeps } from './common';
import { buildDataset, rebuildDataset } from './datasetBuild';
import { modelFolder } from './modelFolder';

/** How many samples Preview Samples decodes. */
const PREVIEW_SAMPLES = 5;

export function registerDatasets(d: CommandDeps): vscode.Disposable[] {
  const { log } = d;
  return [
    vscode.window.registerTreeDataProvider('localtune.datasets', d.datasets),
    command(log, 'localtune.buildDataset', async () => {
      const ws = needWorkspace();
      if (!ws) return undefined;
      const modelDir = await modelFolder(d, settings().defaultModel);
      if (!modelDir) return undefined;
      return buildDataset(d, [ws], ['.localtune/'], join(datasetsRoot(ws), basename(ws)), modelDir);
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
              filters: { 'Text and JSONL': ['txt', 'md', 'jsonl', 'json', '*'] },
            })) ?? []
          ).map((u) => u.fsPath);
        if (files.length === 0) return undefined;
        let dir = arg instanceof vscode.Uri ? undefined : datasetDirOf(arg);
        if (!dir) {
          const dirs = listDatasetDirs(ws);
          if (dirs.length === 0) {
            const modelDir = await modelFolder(d, settings().defaultModel);
            if (!modelDir) return undefined;
            return buildDataset(d, files, [], join(datasetsRoot(ws), basename(ws)), modelDir);
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
        return rebuildDataset(d, dir, { addSources: files });
      },
    ),
    command(log, 'localtune.rebuildDataset', (arg?: DatasetNode | string) => {
      const dir = datasetDirOf(arg) ?? listDatasetDirs(workspaceRoot() ?? '')[0];
      return dir ? rebuildDataset(d, dir) : vscode.commands.executeCommand('localtune.buildDataset');
    }),
    command(log, 'localtune.excludeFile', async (arg?: DatasetNode) => {
      if (arg?.kind !== 'file') return undefined;
      const source = arg.dataset.sources.find((s) => arg.file.absPath.startsWith(s.path + '/'));
      const pattern = source ? '/' + relative(source.path, arg.file.absPath) : arg.file.fileId;
      const ok = await vscode.window.showWarningMessage(
        `Leave ${pattern} out of ${arg.dataset.name} and rebuild it?`,
        { modal: true },
        'Exclude and rebuild',
      );
      if (ok) return rebuildDataset(d, arg.dataset.dir, { addExclude: [pattern] });
      return undefined;
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
