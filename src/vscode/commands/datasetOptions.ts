/**
 * "Edit Dataset Options": a quick-input flow over the dataset's config (dataset.json) — FIM rate,
 * SPM rate, split method, held-out share, include and exclude patterns — that saves and rebuilds.
 * Called with `changes` (another command, a test), it applies them without asking.
 */
import * as vscode from 'vscode';
import { datasetOptionsProblem, type DatasetConfig, type DatasetOptions } from '../../data/datasetConfig';
import { SPLIT_METHODS, type SplitMethod } from '../../data/split';
import { datasetConfigOf, readDatasetInfo } from '../datasetInfo';
import type { CommandDeps } from './common';
import { buildFromConfig } from './datasetBuild';

// (CSV columns are asked when CSV files are added, or set in the settings: not listed here.)
type Key = Exclude<keyof DatasetOptions, 'csvColumns'>;

const LABELS: Record<Key, string> = {
  fimRate: 'FIM rate',
  spmRate: 'SPM rate',
  split: 'Split method',
  valFraction: 'Held-out share',
  include: 'Include patterns',
  exclude: 'Exclude patterns',
};

const HELP: Record<Key, string> = {
  fimRate: 'Share of documents rearranged fill-in-the-middle (0–1), when the model has FIM tokens',
  spmRate: 'Share of the FIM documents in suffix-prefix-middle order (0–1)',
  split: 'file: a draw per file · folder: whole top-level folders · recency: the newest commits',
  valFraction: 'Share of files held out for validation (0–0.9)',
  include:
    'gitignore-style patterns, comma-separated; only matching files are read (a key file named here is read too)',
  exclude: 'gitignore-style patterns, comma-separated; matching files and folders are left out',
};

function show(config: DatasetConfig, key: Key): string {
  const v = config[key];
  if (Array.isArray(v)) return v.length ? v.join(', ') : key === 'include' ? 'everything' : 'nothing';
  return key === 'valFraction' ? `${Math.round((v as number) * 100)}%` : String(v);
}

/** Resolves to the rebuilt dataset folder, or undefined when nothing was saved. */
export async function editDatasetOptions(
  d: Pick<CommandDeps, 'training' | 'datasets' | 'log'>,
  dir: string,
  changes?: Partial<DatasetOptions>,
): Promise<string | undefined> {
  const info = readDatasetInfo(dir);
  const config = datasetConfigOf(info);
  if (changes) {
    const problem = datasetOptionsProblem(changes);
    if (problem) throw new Error(`dataset options: ${problem}`);
    return buildFromConfig(d, dir, { ...config, ...changes });
  }
  const edited: DatasetConfig = { ...config, include: [...config.include], exclude: [...config.exclude] };
  for (;;) {
    type Item = vscode.QuickPickItem & { key?: Key };
    const changed = (Object.keys(LABELS) as Key[]).some((k) => show(edited, k) !== show(config, k));
    const items: Item[] = (Object.keys(LABELS) as Key[]).map((key) => ({
      label: LABELS[key],
      description: show(edited, key),
      detail: HELP[key],
      key,
    }));
    items.push({ label: changed ? '$(check) Save and rebuild' : '$(close) Done (nothing changed)' });
    const pick = await vscode.window.showQuickPick(items, {
      title: `Dataset options: ${info.name}`,
      placeHolder: 'Pick an option to change; the dataset is rebuilt when you save',
    });
    if (!pick) return undefined;
    if (!pick.key) return changed ? buildFromConfig(d, dir, edited) : undefined;
    const key = pick.key;
    if (key === 'split') {
      const split = await vscode.window.showQuickPick(
        SPLIT_METHODS.map((m) => ({ label: m, picked: m === edited.split })),
        { title: LABELS.split, placeHolder: HELP.split },
      );
      if (split) edited.split = split.label as SplitMethod;
      continue;
    }
    const value = await vscode.window.showInputBox({
      title: LABELS[key],
      prompt: HELP[key],
      value: Array.isArray(edited[key]) ? (edited[key] as string[]).join(', ') : String(edited[key]),
      validateInput: (text) => datasetOptionsProblem(parse(key, text)),
    });
    if (value === undefined) continue;
    Object.assign(edited, parse(key, value));
  }
}

function parse(key: Key, text: string): Partial<DatasetOptions> {
  if (key === 'include' || key === 'exclude')
    return {
      [key]: text
        .split(',')
        .map((p) => p.trim())
        .filter(Boolean),
    };
  return { [key]: text.trim() === '' ? NaN : Number(text) };
}
