/**
 * `localtune job import`: what another trainer saved — a PEFT adapter (or a merged model folder)
 * and its trainer_state.json — made a LocalTune run: `<run>/adapter/` (or `<run>/model/`),
 * metrics.jsonl from the loss history and run.json naming the base model and our dataset, so the
 * dashboard, evaluation, export and Use for Completions treat it as a run trained here.
 */
import { cpSync, existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { OptionError, UserError } from '../../engine/errors';
import { saveAdapter } from '../../engine/formats/peft';
import { loadModel } from '../../engine/models';
import { checkModelFolder } from '../../engine/models/check';
import { METRICS_FILE, writeRunRecord, type RunRecord } from '../runs';
import type { TrainSpec } from '../trainSpec';
import { loadImportedAdapter } from './importedAdapter';
import { ENGINE_OUTPUT_DIR, JOB_FILE, readJobFile, type JobFile } from './jobFile';
import { bestStepOf, findTrainerState, historyEvents, readTrainerState } from './trainerState';

export interface ImportRunOptions {
  /** The hand-off folder (with localtune-job.json), or the engine's output folder inside it. */
  dir: string;
  /** The run folder to create. */
  runDir: string;
  /** Without a job file: the base model folder and the dataset folder. */
  modelDir?: string;
  datasetDir?: string;
  title?: string;
}

export interface ImportedRun {
  runDir: string;
  finalDir: string;
  mode: 'lora' | 'full';
  steps: number;
  evaluations: number;
  record: RunRecord;
}

export async function importRun(o: ImportRunOptions): Promise<ImportedRun> {
  const dir = resolve(o.dir);
  const job = findJob(dir);
  const modelDir = o.modelDir ?? job?.modelDir;
  if (!modelDir)
    throw new OptionError(['modelDir'], `${dir} has no ${JOB_FILE}; give modelDir (the base model folder)`);
  const datasetDir = o.datasetDir ?? job?.datasetDir ?? undefined;
  const saved = savedWeights(dir);
  const runDir = resolve(o.runDir);
  if (existsSync(runDir) && readdirSync(runDir).length > 0)
    throw new OptionError(['runDir'], `runDir ${runDir} is not empty; give a new run folder`);

  const model = loadModel(modelDir);
  let finalDir: string;
  let mode: 'lora' | 'full';
  let rank: number | undefined;
  try {
    if (saved.kind === 'adapter') {
      const adapter = loadImportedAdapter(model, saved.dir, job?.plan.baseModel ?? null);
      finalDir = join(runDir, 'adapter');
      saveAdapter(
        finalDir,
        { ...adapter, baseModel: job?.plan.baseModel ?? adapter.baseModel },
        { fanInFanOut: model.family.fanInFanOut },
      );
      mode = 'lora';
      rank = adapter.settings.r;
    } else {
      checkSameArchitecture(modelDir, saved.dir);
      finalDir = join(runDir, 'model');
      cpSync(saved.dir, finalDir, { recursive: true, filter: (src) => !/checkpoint-\d+$/.test(src) });
      mode = 'full';
    }
  } finally {
    model.weights.close();
  }

  const statePath = findTrainerState(saved.dir) ?? findTrainerState(dir);
  const state = statePath ? readTrainerState(statePath) : { log_history: [] };
  const plan = job?.plan;
  const tokensPerStep = plan ? plan.seqLen * plan.microBatchSize * plan.gradientAccumulation : 0;
  const events = historyEvents(state, tokensPerStep);
  mkdirSync(runDir, { recursive: true });
  writeFileSync(join(runDir, METRICS_FILE), events.map((e) => JSON.stringify(e) + '\n').join(''));
  const bestStep = bestStepOf(state);
  const steps = events.filter((e) => e.type === 'step').length;
  const spec: TrainSpec = {
    modelDir: resolve(modelDir),
    data: datasetDir ? [resolve(datasetDir)] : [],
    mode,
    loraR: rank,
    outDir: runDir,
    baseModelName: plan?.baseModel,
    ...(plan && { seqLen: plan.seqLen, lr: plan.lr, warmupSteps: plan.warmupSteps, seed: plan.seed }),
  };
  const record = writeRunRecord(runDir, {
    title: o.title ?? `${basename(dir)} (${job ? `trained with ${job.engine}` : 'imported'})`,
    spec,
    status: 'finished',
    finalDir,
    finalIs: bestStep !== null ? 'best' : 'last',
    bestStep,
    importedFrom: { dir, engine: job?.engine ?? null },
  });
  return { runDir, finalDir, mode, steps, evaluations: events.length - steps, record };
}

/** The job file in the folder given or in its parent (the engine's output folder was given). */
function findJob(dir: string): JobFile | null {
  if (existsSync(join(dir, JOB_FILE))) return readJobFile(dir);
  if (existsSync(join(dirname(dir), JOB_FILE))) return readJobFile(dirname(dir));
  return null;
}

/** Where the engine saved: `output/` or the folder itself; the adapter, else a merged model, else the newest checkpoint's. */
function savedWeights(dir: string): { kind: 'adapter' | 'model'; dir: string } {
  for (const candidate of [join(dir, ENGINE_OUTPUT_DIR), dir]) {
    if (existsSync(join(candidate, 'adapter_config.json'))) return { kind: 'adapter', dir: candidate };
    if (existsSync(join(candidate, 'config.json'))) return { kind: 'model', dir: candidate };
    const checkpoint = newestCheckpoint(candidate);
    if (checkpoint) return { kind: 'adapter', dir: checkpoint };
  }
  throw new UserError(
    `${dir}: no adapter_config.json, model config.json or checkpoint-N/ adapter in it or in ${ENGINE_OUTPUT_DIR}/; give the folder the engine saved into`,
  );
}

function newestCheckpoint(dir: string): string | null {
  if (!existsSync(dir)) return null;
  const steps = readdirSync(dir)
    .map((n) => Number(/^checkpoint-(\d+)$/.exec(n)?.[1] ?? NaN))
    .filter((s) => Number.isInteger(s) && existsSync(join(dir, `checkpoint-${s}`, 'adapter_config.json')))
    .sort((a, b) => b - a);
  return steps.length ? join(dir, `checkpoint-${steps[0]}`) : null;
}

/** A merged model must be the base model's architecture: same family, every tensor the same shape. */
function checkSameArchitecture(baseDir: string, mergedDir: string): void {
  const base = checkModelFolder(baseDir);
  const merged = checkModelFolder(mergedDir);
  const want = base.family.tensors(base.config);
  const got = new Map(merged.family.tensors(merged.config).map((t) => [t.name, t.shape.join(',')]));
  const differs = want.find((t) => got.get(t.name) !== t.shape.join(','));
  if (base.modelType !== merged.modelType || differs)
    throw new UserError(
      `${mergedDir}: the merged model is not ${baseDir}'s architecture (${differs ? `tensor ${differs.name}` : `model_type ${merged.modelType}`}); import it with its own base model`,
    );
}
