/**
 * `localtune job export`: a LocalTune run (its TrainSpec) written as a job for another trainer —
 * the dataset's documents as JSONL, the resolved settings in the engine's config, a README and
 * the job file the import reads back.
 */
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { isDatasetDir, readManifest } from '../../data/datasetFiles';
import { MANIFEST_FILE } from '../../data/manifest';
import { OptionError, UserError } from '../../engine/errors';
import { findFimTokens } from '../../engine/tokenizer/fimTokens';
import { loadTokenizer } from '../../engine/tokenizer/tokenizer';
import { trainOptionsFrom, type TrainSpec } from '../trainSpec';
import { axolotlYaml, AXOLOTL_CONFIG_FILE } from './axolotl';
import { DATA_DIR, dataFileName, type JobDataFiles } from './dataFiles';
import { exportSplit, type ExportedSplit } from './documents';
import { writeJobFile, type JobFile } from './jobFile';
import { handoffPlan } from './plan';
import { jobReadme } from './readme';
import { trlScript, TRL_SCRIPT_FILE } from './trl';
import { ENGINE_VERSIONS, type Engine } from './versions';

export interface ExportJobOptions {
  /** The run as LocalTune would train it (its outDir is not used). */
  spec: TrainSpec;
  engine: Engine;
  outDir: string;
  onWarning?: (message: string) => void;
}

export async function exportJob(
  o: ExportJobOptions,
): Promise<JobFile & { dir: string; files: JobDataFiles }> {
  const dir = resolve(o.outDir);
  if (existsSync(dir) && readdirSync(dir).length > 0)
    throw new OptionError(['outDir'], `outDir ${dir} is not empty; give a new folder for the job`);
  // The spec's run folder is never written here (the editor's form has none yet).
  const options = await trainOptionsFrom({ ...o.spec, outDir: o.spec.outDir ?? dir }, o.onWarning);
  options.model.weights.close();
  const modelDir = resolve(options.model.dir);
  const datasetDir = o.spec.data.find(isDatasetDir);
  const manifest = datasetDir ? readManifest(join(datasetDir, MANIFEST_FILE)) : undefined;
  const tokenizer = await loadTokenizer(modelDir);
  const eosId = manifest?.tokenizer.eosId ?? tokenizer.eosId;
  if (eosId === null || eosId === undefined)
    throw new UserError(`${modelDir}: the tokenizer has no end-of-text token to separate documents`);

  const fim = findFimTokens(tokenizer);
  const special = new Set([
    eosId,
    ...tokenizer.prefixIds,
    ...(fim ? [fim.prefix, fim.middle, fim.suffix] : []),
  ]);
  const train = exportSplit(options.train, tokenizer, eosId, special);
  const validation = options.validation ? exportSplit(options.validation, tokenizer, eosId, special) : null;
  mkdirSync(join(dir, DATA_DIR), { recursive: true });
  const files: JobDataFiles = {
    train: writeSplit(dir, 'train', train),
    validation: validation ? writeSplit(dir, 'validation', validation) : null,
  };
  const plan = handoffPlan(options, {
    eosToken: tokenizer.decode([eosId]),
    fimTokens:
      fim && manifest?.fim.documents
        ? [fim.prefix, fim.middle, fim.suffix].map((id) => tokenizer.decode([id]))
        : [],
  });
  if (o.engine === 'axolotl') writeFileSync(join(dir, AXOLOTL_CONFIG_FILE), axolotlYaml(plan, files));
  else writeFileSync(join(dir, TRL_SCRIPT_FILE), trlScript(plan, files));
  writeFileSync(
    join(dir, 'README.md'),
    jobReadme(o.engine, plan, files, resolve(plan.baseModel) === modelDir),
  );
  const job: JobFile = {
    format: 'localtune-handoff',
    version: 1,
    engine: o.engine,
    createdAt: new Date().toISOString(),
    modelDir,
    datasetDir: datasetDir ? resolve(datasetDir) : null,
    versions: { ...ENGINE_VERSIONS },
    plan,
    roundTrip: {
      documents: train.roundTrip.documents + (validation?.roundTrip.documents ?? 0),
      identical: train.roundTrip.identical + (validation?.roundTrip.identical ?? 0),
    },
  };
  writeJobFile(dir, job);
  return { ...job, dir, files };
}

function writeSplit(dir: string, split: 'train' | 'validation', rows: ExportedSplit) {
  const write = (kind: 'text' | 'segments', lines: string[]) => {
    if (lines.length === 0) return null;
    const name = dataFileName(split, kind);
    writeFileSync(join(dir, name), lines.join('\n') + '\n');
    return name;
  };
  return { text: write('text', rows.text), segments: write('segments', rows.segments) };
}
