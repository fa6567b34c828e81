/**
 * Building a dataset folder in the worker (the Datasets commands, and Start fine-tuning when the
 * user picks "Build a dataset from this workspace"), and rebuilding one from its own manifest.
 */
import { join } from 'node:path';
import * as vscode from 'vscode';
import { readManifest } from '../../data/datasetFiles';
import { MANIFEST_FILE } from '../../data/manifest';
import { ensureLocaltuneDir, workspaceRoot, type CommandDeps } from './common';

/** Resolves to the dataset folder, or undefined when the build failed or was cancelled. */
export async function buildDataset(
  d: Pick<CommandDeps, 'training' | 'datasets' | 'log'>,
  sources: string[],
  exclude: string[],
  outDir: string,
  modelDir: string,
): Promise<string | undefined> {
  const ws = workspaceRoot();
  if (ws) ensureLocaltuneDir(ws);
  const dir = await d.training.buildDataset({ kind: 'dataset', sources, modelDir, outDir, exclude });
  d.datasets.refresh();
  if (dir) {
    const m = readManifest(join(dir, MANIFEST_FILE));
    d.log.info(`dataset ${m.name}: ${m.tokens.train} train / ${m.tokens.validation} validation tokens`);
    void vscode.commands.executeCommand('localtune.datasets.focus');
  }
  return dir;
}

/** Builds `dir` again from its manifest's sources, filters and model, with sources or exclusions added. */
export async function rebuildDataset(
  d: Pick<CommandDeps, 'training' | 'datasets' | 'log'>,
  dir: string,
  change: { addSources?: string[]; addExclude?: string[] } = {},
): Promise<string | undefined> {
  const m = readManifest(join(dir, MANIFEST_FILE));
  const sources = [
    ...m.sources.map((s) => s.path),
    ...(change.addSources ?? []).filter((p) => !m.sources.some((s) => s.path === p)),
  ];
  const exclude = [...new Set([...m.filters.exclude, ...(change.addExclude ?? [])])];
  return buildDataset(d, sources, exclude, dir, m.tokenizer.modelPath);
}
