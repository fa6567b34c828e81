/**
 * Building a dataset folder in the worker (the Datasets commands, and Start fine-tuning when the
 * user picks "Build a dataset from this workspace"), and rebuilding one from its own config
 * (dataset.json, written before every build), so options, exclusions and "Include anyway" stay.
 */
import { mkdirSync } from 'node:fs';
import { basename, join } from 'node:path';
import * as vscode from 'vscode';
import {
  DEFAULT_DATASET_OPTIONS,
  writeDatasetConfig,
  type DatasetConfig,
  type DatasetOptions,
} from '../../data/datasetConfig';
import { readManifest } from '../../data/datasetFiles';
import type { CsvColumns } from '../../data/formats/csv';
import { MANIFEST_FILE } from '../../data/manifest';
import { builtForModel, datasetConfigOf, readDatasetInfo } from '../datasetInfo';
import { ensureLocaltuneDir, workspaceRoot, type CommandDeps } from './common';

type BuildDeps = Pick<CommandDeps, 'training' | 'datasets' | 'log'>;

/** Resolves to the dataset folder, or undefined when the build failed or was cancelled. */
export async function buildDataset(
  d: BuildDeps,
  sources: string[],
  exclude: string[],
  outDir: string,
  modelDir: string,
  options: Partial<DatasetOptions> = {},
): Promise<string | undefined> {
  return buildFromConfig(d, outDir, { ...DEFAULT_DATASET_OPTIONS, ...options, exclude, sources, modelDir });
}

/** Writes `config` as the dataset's dataset.json, then builds it in the worker. */
export async function buildFromConfig(
  d: BuildDeps,
  outDir: string,
  config: DatasetConfig,
): Promise<string | undefined> {
  const ws = workspaceRoot();
  if (ws) ensureLocaltuneDir(ws);
  const { sources, modelDir, ...options } = config;
  writeDatasetConfig(ensureDir(outDir), config);
  const dir = await d.training.buildDataset({ kind: 'dataset', sources, modelDir, outDir, options });
  d.datasets.refresh();
  if (dir) {
    const m = readManifest(join(dir, MANIFEST_FILE));
    d.log.info(`dataset ${m.name}: ${m.tokens.train} train / ${m.tokens.validation} validation tokens`);
    void vscode.commands.executeCommand('localtune.datasets.focus');
  }
  return dir;
}

/**
 * Builds `dir` again from its config (or, for an older dataset, what its manifest says), with
 * sources, exclusions or include patterns added, or for another model.
 */
export async function rebuildDataset(
  d: BuildDeps,
  dir: string,
  change: {
    addSources?: string[];
    addExclude?: string[];
    addInclude?: string[];
    modelDir?: string;
    csvColumns?: CsvColumns;
  } = {},
): Promise<string | undefined> {
  const config = datasetConfigOf(readDatasetInfo(dir));
  const sources = [...new Set([...config.sources, ...(change.addSources ?? [])])];
  const exclude = [...new Set([...config.exclude, ...(change.addExclude ?? [])])];
  const include = [...new Set([...config.include, ...(change.addInclude ?? [])])];
  return buildFromConfig(d, dir, {
    ...config,
    sources,
    exclude,
    include,
    modelDir: change.modelDir ?? config.modelDir,
    csvColumns: change.csvColumns ?? config.csvColumns,
  });
}

/**
 * Whether the dataset was tokenized with `modelDir`'s tokenizer; when not, says so with
 * "Rebuild for MODEL" (which rebuilds it for that model). A run must not start on it either way:
 * its token ids mean other words to this model.
 */
export async function datasetFitsModel(d: BuildDeps, dir: string, modelDir: string): Promise<boolean> {
  const m = readManifest(join(dir, MANIFEST_FILE));
  if (builtForModel(m, modelDir)) return true;
  const action = `Rebuild for ${basename(modelDir)}`;
  // Not awaited: the caller refuses now; the offer stays in the notification.
  void vscode.window
    .showErrorMessage(
      `LocalTune: dataset ${m.name} was built with the tokenizer of ${basename(m.tokenizer.modelPath)}, not ${basename(modelDir)}'s; its token ids mean other words to this model. Rebuild it for ${basename(modelDir)} first.`,
      action,
    )
    .then((pick) => (pick === action ? rebuildDataset(d, dir, { modelDir }) : undefined));
  return false;
}

function ensureDir(dir: string): string {
  mkdirSync(dir, { recursive: true }); // (the build makes it too; the config goes in first)
  return dir;
}
