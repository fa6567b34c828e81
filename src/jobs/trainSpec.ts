/**
 * A training job as plain data (`TrainSpec`): the CLI builds it from flags, the extension from its
 * form, quick picks and settings, and the worker receives it in its start message. `trainOptionsFrom`
 * turns it into the trainer's `TrainOptions` (loading the model and the data) — the one place that
 * fills the defaults, the protective ones of trainDefaults.ts included, so the CLI and the extension
 * train the same way.
 */
import { copyFileSync, existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { isDatasetDir, readDataset, tokenStreamFromFiles } from '../data/datasetFiles';
import { OptionError } from '../engine/errors';
import { loadAdapter, type LoraSettings } from '../engine/formats/peft';
import { SafetensorsReader } from '../engine/formats/safetensors';
import { openWeights } from '../engine/formats/weights';
import { isLoraTarget } from '../engine/models/lora';
import type { BaseDtype } from '../engine/models/params';
import { checkAdapterFits, checkWeightsFit } from '../engine/train/adapterFit';
import { loadTokenizer } from '../engine/tokenizer/tokenizer';
import { initModelFolder, loadModel, type LoadedModel } from '../engine/models';
import { readModelConfigFile } from '../engine/models/config';
import { resolveCheckpoint } from '../engine/train/checkpoint';
import { checkSeqLen } from '../engine/train/plan';
import type { TrainOptions } from '../engine/train/trainer';
import { holdOutTail, type TokenStream } from '../engine/train/windows';
import { defaultBaseDtype, plainHoldOutTokens, protectiveSettings } from './trainDefaults';

export const TRAIN_DEFAULTS = {
  loraR: 8,
  loraAlpha: 16,
  loraDropout: 0,
  warmupSteps: 10,
  minLrRatio: 0.1,
  weightDecay: 0,
  clipNorm: 1,
  batchTokens: 2048,
  /** The sequence length is this or the model's context, whichever is shorter. */
  maxSeqLen: 256,
  microBatchTokens: 1024,
  evalTokens: 16384,
  checkpointEvery: 100,
  seed: 0,
} as const;

export interface TrainSpec {
  /** A Hugging Face model folder. */
  modelDir: string;
  /** One dataset folder, or text / JSONL files. */
  data: string[];
  mode: 'lora' | 'full';
  loraR?: number;
  loraAlpha?: number;
  loraDropout?: number;
  /** LoRA target modules; the model family's defaults when absent. */
  targets?: string[];
  /** Optimizer steps; one epoch when neither steps nor epochs is given. */
  steps?: number;
  epochs?: number;
  /** Peak learning rate; by the model's size and the mode when absent (trainDefaults.ts). */
  lr?: number;
  warmupSteps?: number;
  weightDecay?: number;
  clipNorm?: number;
  batchTokens?: number;
  seqLen?: number;
  /** When seqLen is absent: this or the model's context, whichever is shorter (default 256). */
  maxSeqLen?: number;
  microBatchTokens?: number;
  /** Steps between evaluations (0: none); 25 when absent, 50 from scratch. */
  evalEvery?: number;
  evalTokens?: number;
  /**
   * Early stopping after this many evaluations without a lower validation loss (0: off). Absent: 3
   * when fine-tuning with a validation set, off from scratch.
   */
  patience?: number;
  /**
   * Keep the best evaluation's adapter in `<run>/best/` and make it the final one. Absent: on when
   * fine-tuning with a validation set; from scratch, on with patience.
   */
  keepBest?: boolean;
  checkpointEvery?: number;
  seed?: number;
  threads?: number;
  /** The run folder. */
  outDir: string;
  /** Continue from this run or checkpoint folder (normally `outDir` itself). */
  resumeFrom?: string;
  /** Start LoRA from this PEFT adapter (ours or one Python PEFT saved); its settings win. */
  adapterDir?: string;
  /** What the adapter records as its base (`base_model_name_or_path`): the hub id when there is one. */
  baseModelName?: string;
  /**
   * `random`: train from scratch — weights drawn by the family's initialisation rules into
   * `<outDir>/init/` (kept for resume), with `modelDir`'s tokenizer and its config.json (or `configFile`).
   */
  init?: 'pretrained' | 'random';
  /** With init `random`: the architecture's config.json instead of modelDir's. */
  configFile?: string;
  /** LoRA: the frozen base weights in float32 (default) or int8 (onnxruntime's integer GEMMs). */
  baseDtype?: BaseDtype;
}

/**
 * From-scratch training wants a higher rate, decay, and a warmup in proportion to the run; its loss
 * plateaus for long stretches, so it never stops early unless asked.
 */
const SCRATCH_DEFAULTS = {
  lr: 1e-3,
  weightDecay: 0.1,
  warmupShare: 0.05,
  evalEvery: 50,
  patience: 0,
} as const;

/** Loads the model and the data a spec names and fills in every default. */
export async function trainOptionsFrom(
  spec: TrainSpec,
  onWarning: (message: string) => void = () => {},
): Promise<TrainOptions> {
  const { mode } = spec;
  if (mode !== 'lora' && mode !== 'full')
    throw new OptionError(['mode'], `mode must be lora or full (got "${mode}")`);
  checkRanges(spec);
  // 0 steps is one epoch, as the extension's setting documents.
  const steps = spec.steps || undefined;
  if (steps !== undefined && spec.epochs !== undefined)
    throw new OptionError(['steps', 'epochs'], 'give steps or epochs, not both');
  if (spec.data.length === 0)
    throw new OptionError(['data'], 'train needs data: text or JSONL files, or a dataset folder');
  const scratch = spec.init === 'random';
  if (scratch && mode !== 'full')
    throw new OptionError(['init', 'mode'], 'init random trains every weight: use mode full');
  if (spec.configFile && !scratch)
    throw new OptionError(
      ['configFile', 'init'],
      'configFile sets the architecture of a new model: use init random',
    );
  const modelDir = scratch ? scratchModelFolder(spec) : spec.modelDir;
  if (spec.adapterDir && mode !== 'lora')
    throw new OptionError(['adapterDir', 'mode'], 'adapterDir continues LoRA training: use mode lora');
  if (spec.adapterDir && spec.resumeFrom)
    throw new OptionError(['adapterDir', 'resumeFrom'], 'give adapterDir or resumeFrom, not both');
  if (spec.baseDtype !== undefined && spec.baseDtype !== 'fp32' && spec.baseDtype !== 'int8')
    throw new OptionError(['baseDtype'], `baseDtype must be fp32 or int8 (got "${String(spec.baseDtype)}")`);
  if (spec.baseDtype === 'int8' && mode !== 'lora')
    throw new OptionError(
      ['baseDtype', 'mode'],
      'baseDtype int8 freezes the base in int8 for LoRA: use mode lora',
    );
  const model = loadModel(modelDir);
  // When resuming, the checkpoint must be this model's; in LoRA mode its adapter settings win.
  const resumed = spec.resumeFrom ? resumedSettings(model, mode, spec.resumeFrom) : undefined;
  const initial = spec.adapterDir ? loadAdapter(spec.adapterDir) : undefined;
  if (initial) checkAdapterFits(model, initial.values, initial.settings.r, spec.adapterDir!);
  const lora = resumed ??
    initial?.settings ?? {
      r: spec.loraR ?? TRAIN_DEFAULTS.loraR,
      alpha: spec.loraAlpha ?? TRAIN_DEFAULTS.loraAlpha,
      dropout: spec.loraDropout ?? TRAIN_DEFAULTS.loraDropout,
      targets: spec.targets ?? model.family.defaultLoraTargets,
      rslora: false,
    };
  if (lora.dropout >= 1)
    throw new OptionError(['lora.dropout'], `lora.dropout must be below 1 (got ${lora.dropout})`);
  if (mode === 'lora') checkTargetsMatch(modelDir, lora.targets);
  const context = model.family.contextLength(model.config);
  const seqLen = spec.seqLen ?? Math.min(spec.maxSeqLen ?? TRAIN_DEFAULTS.maxSeqLen, context);
  // Checked before the data is read: a wrong setting should not cost a tokenization pass.
  checkSeqLen(seqLen, context);
  const { train, validation } = await loadStreams(spec.data, modelDir, seqLen, onWarning);
  const asked = { lr: spec.lr, evalEvery: spec.evalEvery, patience: spec.patience, keepBest: spec.keepBest };
  const guarded = scratch
    ? { ...SCRATCH_DEFAULTS, ...definedOnly(asked) }
    : protectiveSettings(asked, { mode, parameters: parameterCount(model), hasValidation: !!validation });
  return {
    model,
    baseModelName: spec.baseModelName ?? resolve(modelDir),
    initialLora: initial ? new Map([...initial.values].map(([name, v]) => [name, v.data])) : undefined,
    train,
    validation,
    mode,
    lora,
    baseDtype: spec.baseDtype ?? defaultBaseDtype(mode, parameterCount(model)),
    steps,
    epochs: spec.epochs,
    lr: guarded.lr,
    warmupSteps:
      spec.warmupSteps ??
      (scratch && steps
        ? Math.max(TRAIN_DEFAULTS.warmupSteps, Math.round(steps * SCRATCH_DEFAULTS.warmupShare))
        : TRAIN_DEFAULTS.warmupSteps),
    minLrRatio: TRAIN_DEFAULTS.minLrRatio,
    weightDecay: spec.weightDecay ?? (scratch ? SCRATCH_DEFAULTS.weightDecay : TRAIN_DEFAULTS.weightDecay),
    clipNorm: spec.clipNorm ?? TRAIN_DEFAULTS.clipNorm,
    batchTokens: spec.batchTokens ?? TRAIN_DEFAULTS.batchTokens,
    seqLen,
    microBatchTokens: spec.microBatchTokens ?? TRAIN_DEFAULTS.microBatchTokens,
    evalEvery: guarded.evalEvery,
    evalTokens: spec.evalTokens ?? TRAIN_DEFAULTS.evalTokens,
    patience: guarded.patience,
    keepBest: guarded.keepBest,
    checkpointEvery: spec.checkpointEvery ?? TRAIN_DEFAULTS.checkpointEvery,
    seed: spec.seed ?? TRAIN_DEFAULTS.seed,
    threads: spec.threads,
    outDir: resolve(spec.outDir),
    resumeFrom: spec.resumeFrom ? resolve(spec.resumeFrom) : undefined,
  };
}

/** Each number's accepted range (the option names are TrainSpec's, as errors name them). */
const RANGES: [keyof TrainSpec, Range][] = [
  ['loraR', { integer: true, min: 1, max: 4096 }],
  ['loraAlpha', { above: 0, max: 1e6 }],
  ['loraDropout', { min: 0, below: 1 }],
  ['steps', { integer: true, min: 0, max: 1e9 }],
  ['epochs', { above: 0, max: 1e6 }],
  ['lr', { above: 0, max: 1 }],
  ['warmupSteps', { integer: true, min: 0, max: 1e9 }],
  ['weightDecay', { min: 0, max: 1 }],
  ['clipNorm', { min: 0, max: 1e9 }],
  ['batchTokens', { integer: true, min: 1, max: 1e9 }],
  ['seqLen', { integer: true, min: 1, max: 1e7 }],
  ['microBatchTokens', { integer: true, min: 1, max: 1e9 }],
  ['evalEvery', { integer: true, min: 0, max: 1e9 }],
  ['evalTokens', { integer: true, min: 1, max: 1e12 }],
  ['patience', { integer: true, min: 0, max: 1e6 }],
  ['checkpointEvery', { integer: true, min: 0, max: 1e9 }],
  ['seed', { integer: true, min: 0, max: 2 ** 32 - 1 }],
  ['threads', { integer: true, min: 1, max: 1024 }],
];

interface Range {
  integer?: boolean;
  min?: number;
  /** Exclusive lower bound. */
  above?: number;
  max?: number;
  /** Exclusive upper bound. */
  below?: number;
}

function checkRanges(spec: TrainSpec): void {
  for (const [name, r] of RANGES) {
    const v = spec[name];
    if (v === undefined) continue;
    const ok =
      typeof v === 'number' &&
      Number.isFinite(v) &&
      (!r.integer || Number.isInteger(v)) &&
      !(r.min !== undefined && v < r.min) &&
      !(r.above !== undefined && v <= r.above) &&
      !(r.max !== undefined && v > r.max) &&
      !(r.below !== undefined && v >= r.below);
    if (!ok) throw new OptionError([name], `${name} must be ${describeRange(r)} (got ${String(v)})`);
  }
}

function describeRange(r: Range): string {
  const low = r.min !== undefined ? `${r.min}` : `above ${r.above}`;
  const high = r.max !== undefined ? `${r.max}` : `below ${r.below}`;
  return `${r.integer ? 'a whole number' : 'a number'} from ${low} to ${high}`.replace(
    /from above (\S+) to/,
    'above $1 and up to',
  );
}

/** LoRA targets that name no module of the model would train nothing. */
function checkTargetsMatch(modelDir: string, targets: string[]): void {
  const weights = openWeights(modelDir);
  const modules = weights
    .names()
    .filter((n) => n.endsWith('.weight'))
    .map((n) => n.slice(0, -'.weight'.length));
  weights.close();
  const settings = { r: 1, alpha: 1, dropout: 0, rslora: false, targets };
  const unmatched = targets.filter(
    (t) => !modules.some((m) => isLoraTarget({ ...settings, targets: [t] }, m)),
  );
  if (targets.length === 0 || unmatched.length > 0) {
    const names = [...new Set(modules.map((m) => m.slice(m.lastIndexOf('.') + 1)))];
    throw new OptionError(
      ['targets'],
      `targets ${unmatched.join(',') || '(none)'} match no module of ${modelDir}; its modules: ${names.join(', ')}`,
    );
  }
}

/** The checkpoint a resume starts from, checked against the model (its LoRA settings, when LoRA). */
function resumedSettings(model: LoadedModel, mode: 'lora' | 'full', from: string): LoraSettings | undefined {
  const dir = resolveCheckpoint(from);
  if (mode === 'full') {
    const r = SafetensorsReader.open(join(dir, 'model.safetensors'));
    const shapes = new Map(r.names().map((n) => [n, { shape: r.info(n).shape }]));
    r.close();
    checkWeightsFit(model, shapes, dir);
    return undefined;
  }
  const adapter = loadAdapter(dir);
  checkAdapterFits(model, adapter.values, adapter.settings.r, dir);
  return adapter.settings;
}

/** The model's parameters as its weight headers count them (buffers it never reads left out). */
function parameterCount(model: LoadedModel): number {
  let n = 0;
  for (const name of model.weights.names())
    n += (model.weights.header(name)?.shape ?? []).reduce((a, b) => a * b, 1);
  return n;
}

function definedOnly<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

async function loadStreams(
  items: string[],
  modelDir: string,
  seqLen: number,
  onWarning: (message: string) => void,
): Promise<{ train: TokenStream; validation?: TokenStream }> {
  const datasets = items.filter(isDatasetDir);
  if (datasets.length > 1) throw new OptionError(['data'], 'data takes one dataset folder (or plain files)');
  if (datasets.length === 1) {
    if (items.length > 1)
      throw new OptionError(['data'], 'data: give either one dataset folder or files, not both');
    const ds = readDataset(datasets[0]);
    return { train: ds.train, validation: ds.validation.ids.length > 1 ? ds.validation : undefined };
  }
  const tokenizer = await loadTokenizer(modelDir);
  const stream = await tokenStreamFromFiles(items, tokenizer, {
    modelDir, // chat records need the model's template
    onWarning: (w: string) => onWarning(`warning: ${w}`),
  });
  if (stream.ids.length < 2) throw new OptionError(['data'], `data: no text found in ${items.join(', ')}`);
  // Plain files have no split: hold out the tail, sized by tokens, when both sides hold a sequence.
  const held = plainHoldOutTokens(stream.ids.length, seqLen);
  return held > 0 ? holdOutTail(stream, held / stream.ids.length) : { train: stream };
}

/** Files a new model takes from the folder whose tokenizer it uses. */
const TOKENIZER_FILES = [
  'tokenizer.json',
  'tokenizer_config.json',
  'special_tokens_map.json',
  'generation_config.json',
];

/**
 * The folder a from-scratch run trains: `<outDir>/init/`, drawn once (seeded) and reused on resume
 * so the run continues from the same start.
 */
function scratchModelFolder(spec: TrainSpec): string {
  const dir = join(spec.outDir, 'init');
  if (existsSync(join(dir, 'model.safetensors'))) return dir;
  const file = spec.configFile ?? join(spec.modelDir, 'config.json');
  const raw = readModelConfigFile(file);
  initModelFolder(dir, raw, file, spec.seed ?? TRAIN_DEFAULTS.seed);
  for (const name of TOKENIZER_FILES)
    if (existsSync(join(spec.modelDir, name))) copyFileSync(join(spec.modelDir, name), join(dir, name));
  return dir;
}
