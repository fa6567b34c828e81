/**
 * The Fine-tune form's values as a TrainSpec (what the worker trains and run.json keeps), the
 * presets, and the defaults for a model. Pure: no vscode, so the rules are tested directly.
 */
import { basename } from 'node:path';
import { defaultBaseDtype, defaultLearningRate, PROTECTIVE_DEFAULTS } from '../../jobs/trainDefaults';
import { TRAIN_DEFAULTS, type TrainSpec } from '../../jobs/trainSpec';
import type { FinetunePreset, FinetuneValues } from '../../../webview/protocol';

/** What each preset changes; everything else stays as the user set it. */
export const PRESETS: Record<FinetunePreset, Partial<FinetuneValues>> = {
  quick: { steps: 60, epochs: 0, loraR: 4, loraAlpha: 8, evalEvery: 10, patience: 3 },
  balanced: { steps: 200, epochs: 0, loraR: 8, loraAlpha: 16, evalEvery: 25, patience: 3 },
  thorough: { steps: 0, epochs: 2, loraR: 16, loraAlpha: 32, evalEvery: 50, patience: 4 },
};

/** The form's starting values for a model and dataset (balanced preset, protective defaults). */
export function initialValues(
  model: string,
  dataset: string,
  parameters: number | null,
  o: { seqLen?: number; learningRate?: number } = {},
): FinetuneValues {
  const mode = 'lora';
  return {
    model,
    dataset,
    name: runName(model, dataset, mode),
    preset: 'balanced',
    mode,
    steps: 200,
    epochs: 0,
    lr: o.learningRate || defaultLearningRate(mode, parameters),
    warmupSteps: TRAIN_DEFAULTS.warmupSteps,
    weightDecay: TRAIN_DEFAULTS.weightDecay,
    clipNorm: TRAIN_DEFAULTS.clipNorm,
    batchTokens: TRAIN_DEFAULTS.batchTokens,
    seqLen: o.seqLen ?? TRAIN_DEFAULTS.maxSeqLen,
    microBatchTokens: TRAIN_DEFAULTS.microBatchTokens,
    loraR: TRAIN_DEFAULTS.loraR,
    loraAlpha: TRAIN_DEFAULTS.loraAlpha,
    loraDropout: TRAIN_DEFAULTS.loraDropout,
    targets: '',
    baseDtype: defaultBaseDtype(mode, parameters),
    evalEvery: PROTECTIVE_DEFAULTS.evalEvery,
    evalTokens: TRAIN_DEFAULTS.evalTokens,
    patience: PROTECTIVE_DEFAULTS.patience,
    keepBest: PROTECTIVE_DEFAULTS.keepBest,
    checkpointEvery: TRAIN_DEFAULTS.checkpointEvery,
    seed: TRAIN_DEFAULTS.seed,
    threads: 0,
  };
}

export function runName(model: string, dataset: string, mode: 'lora' | 'full'): string {
  return `${basename(model)} · ${basename(dataset)} · ${mode === 'lora' ? 'LoRA' : 'full'}`;
}

/** Each number's accepted range: [name as the form labels it, min, max, integer]. */
const NUMBERS: [keyof FinetuneValues, string, number, number, boolean][] = [
  ['steps', 'Steps', 0, 1e7, true],
  ['epochs', 'Epochs', 0, 1000, false],
  ['lr', 'Learning rate', 1e-8, 1, false],
  ['warmupSteps', 'Warm-up steps', 0, 1e7, true],
  ['weightDecay', 'Weight decay', 0, 1, false],
  ['clipNorm', 'Gradient clip norm', 0, 1e6, false],
  ['batchTokens', 'Tokens per step', 1, 1e8, true],
  ['seqLen', 'Sequence length', 8, 1e6, true],
  ['microBatchTokens', 'Tokens per micro-batch', 1, 1e8, true],
  ['loraR', 'LoRA rank', 1, 4096, true],
  ['loraAlpha', 'LoRA alpha', 1e-6, 1e6, false],
  ['loraDropout', 'LoRA dropout', 0, 0.99, false],
  ['evalEvery', 'Evaluate every', 0, 1e7, true],
  ['evalTokens', 'Evaluation tokens', 1, 1e9, true],
  ['patience', 'Patience', 0, 1e4, true],
  ['checkpointEvery', 'Checkpoint every', 0, 1e7, true],
  ['seed', 'Seed', 0, 2 ** 32 - 1, true],
  ['threads', 'Threads', 0, 1024, true],
];

/** The spec the form's values ask for, or one line saying which value is wrong and why. */
export function specFromForm(v: FinetuneValues): { spec: Omit<TrainSpec, 'outDir'>; title: string } | string {
  if (!v.model) return 'Choose a base model.';
  if (!v.dataset) return 'Choose a dataset (or build one from the workspace first).';
  if (!v.name.trim()) return 'Give the run a name.';
  for (const [key, label, min, max, integer] of NUMBERS) {
    const x = v[key] as number;
    if (typeof x !== 'number' || !Number.isFinite(x)) return `${label} must be a number.`;
    if (x < min || x > max) return `${label} must be between ${min} and ${max} (got ${x}).`;
    if (integer && !Number.isInteger(x)) return `${label} must be a whole number (got ${x}).`;
  }
  if (v.steps === 0 && v.epochs === 0) return 'Set steps, or epochs (steps 0).';
  if (v.batchTokens % v.seqLen !== 0)
    return `Tokens per step (${v.batchTokens}) must be a multiple of the sequence length (${v.seqLen}).`;
  if (v.baseDtype !== 'fp32' && v.baseDtype !== 'int8') return 'Base weights must be fp32 or int8.';
  const targets = v.targets
    .split(',')
    .map((t) => t.trim())
    .filter(Boolean);
  const lora = v.mode === 'lora';
  return {
    title: v.name.trim(),
    spec: {
      modelDir: v.model,
      data: [v.dataset],
      mode: v.mode,
      loraR: lora ? v.loraR : undefined,
      loraAlpha: lora ? v.loraAlpha : undefined,
      loraDropout: lora ? v.loraDropout : undefined,
      targets: lora && targets.length ? targets : undefined,
      // Always said: the engine's default for an unsaid one depends on the model's size.
      baseDtype: lora ? v.baseDtype : undefined,
      steps: v.steps > 0 ? v.steps : undefined,
      epochs: v.steps > 0 ? undefined : v.epochs,
      lr: v.lr,
      warmupSteps: v.warmupSteps,
      weightDecay: v.weightDecay,
      clipNorm: v.clipNorm,
      batchTokens: v.batchTokens,
      seqLen: v.seqLen,
      microBatchTokens: Math.min(v.microBatchTokens, v.batchTokens),
      evalEvery: v.evalEvery,
      evalTokens: v.evalTokens,
      patience: v.patience, // 0: off
      keepBest: v.keepBest,
      checkpointEvery: v.checkpointEvery,
      seed: v.seed,
      threads: v.threads > 0 ? v.threads : undefined,
    },
  };
}
