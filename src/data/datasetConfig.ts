// A dataset's own options, in `<dataset>/dataset.json`: what it is built from and how. Rebuild
// reads them back, so an edited option, an exclusion or an "Include anyway" survives every rebuild.
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { UserError } from '../engine/errors';
import type { CsvColumns } from './formats/csv';
import { SPLIT_METHODS, type SplitMethod } from './split';

export const DATASET_CONFIG_FILE = 'dataset.json';

/** The build options a user sets per dataset (the rest come from defaults). */
export interface DatasetOptions {
  include: string[];
  exclude: string[];
  /** Share of documents rearranged fill-in-the-middle (0–1). */
  fimRate: number;
  /** Share of those in suffix-prefix-middle order (0–1). */
  spmRate: number;
  split: SplitMethod;
  /** Held-out share (0–0.9). */
  valFraction: number;
  /** CSV/TSV sources: their prompt, response and system columns by name (absent: the usual names). */
  csvColumns?: CsvColumns;
}

export interface DatasetConfig extends DatasetOptions {
  /** Workspace folders, text and JSONL files. */
  sources: string[];
  /** The model folder whose tokenizer the dataset is built with. */
  modelDir: string;
}

export const DEFAULT_DATASET_OPTIONS: DatasetOptions = {
  include: [],
  exclude: [],
  fimRate: 0.5,
  spmRate: 0.5,
  split: 'file',
  valFraction: 0.1,
};

/** Why an option is unusable, in one line, or undefined when all are fine. */
export function datasetOptionsProblem(o: Partial<DatasetOptions>): string | undefined {
  for (const [name, max] of [
    ['fimRate', 1],
    ['spmRate', 1],
    ['valFraction', 0.9],
  ] as const) {
    const v = o[name];
    if (v !== undefined && !(typeof v === 'number' && v >= 0 && v <= max))
      return `${name} must be a number from 0 to ${max}`;
  }
  if (o.split !== undefined && !SPLIT_METHODS.includes(o.split))
    return `split must be one of ${SPLIT_METHODS.join(', ')}`;
  for (const name of ['include', 'exclude'] as const) {
    const v = o[name];
    if (v !== undefined && !(Array.isArray(v) && v.every((p) => typeof p === 'string' && p.trim() !== '')))
      return `${name} must be a list of non-empty patterns`;
  }
  const columns = o.csvColumns as unknown;
  if (
    columns !== undefined &&
    !(
      typeof columns === 'object' &&
      columns !== null &&
      Object.entries(columns).every(
        ([k, v]) => ['prompt', 'response', 'system'].includes(k) && typeof v === 'string',
      )
    )
  )
    return 'csvColumns must be {"prompt", "response", "system"} column names';
  return undefined;
}

/** The dataset's config, or undefined when it has none (datasets built before it existed). */
export function readDatasetConfig(dir: string): DatasetConfig | undefined {
  const file = join(dir, DATASET_CONFIG_FILE);
  if (!existsSync(file)) return undefined;
  let raw: Partial<DatasetConfig>;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8')) as Partial<DatasetConfig>;
  } catch (err) {
    throw new UserError(`${file}: not valid JSON (${(err as Error).message}); fix or delete it`);
  }
  const problem = datasetOptionsProblem(raw);
  if (problem) throw new UserError(`${file}: ${problem}`);
  if (!Array.isArray(raw.sources) || typeof raw.modelDir !== 'string')
    throw new UserError(`${file}: needs "sources" (a list of paths) and "modelDir"; fix or delete it`);
  return { ...DEFAULT_DATASET_OPTIONS, ...raw } as DatasetConfig;
}

export function writeDatasetConfig(dir: string, config: DatasetConfig): void {
  const file = join(dir, DATASET_CONFIG_FILE);
  writeFileSync(`${file}.tmp`, JSON.stringify(config, null, 2) + '\n');
  renameSync(`${file}.tmp`, file);
}
