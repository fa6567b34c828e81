/**
 * A run's plan: the options checked against the model and the data, and the sizes that follow
 * from them (sequences per step and per graph run, the number of steps, the checkpoint format).
 */
import { OptionError, UserError } from '../errors';
import type { CheckpointFormat } from './checkpoint';
import type { TrainOptions } from './options';
import { Windows } from './windows';

export interface RunPlan {
  /** The training data cut into windows of seqLen + 1 tokens, in a seeded order per epoch. */
  windows: Windows;
  /** Evaluations in a row without a new best before the run stops early (0: never). */
  patience: number;
  keepBest: boolean;
  /** Sequences per optimizer step. */
  rowsPerStep: number;
  /** Sequences per graph run (a micro-batch). */
  rowsPerMicro: number;
  totalSteps: number;
  format: CheckpointFormat;
}

export function planRun(o: TrainOptions): RunPlan {
  const windows = checkData(o);
  const patience = checkPatience(o);
  const rowsPerStep = o.batchTokens / o.seqLen;
  return {
    windows,
    patience,
    keepBest: o.keepBest ?? patience > 0,
    rowsPerStep,
    rowsPerMicro: Math.min(rowsPerStep, Math.max(1, o.microBatchTokens / o.seqLen)),
    totalSteps: o.steps ?? Math.max(1, Math.ceil(((o.epochs ?? 1) * windows.count) / rowsPerStep)),
    format: {
      mode: o.mode,
      lora: o.lora,
      baseModel: o.baseModelName,
      fanInFanOut: o.model.family.fanInFanOut,
    },
  };
}

/**
 * A training sequence fits the model's context and holds at least 2 tokens: training graphs attend
 * in two blocks of positions (models/attention.ts, causalBlocks), neither of which may be empty.
 */
export function checkSeqLen(seqLen: number, context: number): void {
  if (seqLen > context)
    throw new OptionError(
      ['seqLen'],
      `seqLen ${seqLen} is longer than the model's context (${context} tokens)`,
    );
  if (!Number.isInteger(seqLen) || seqLen < 2)
    throw new OptionError(['seqLen'], `seqLen must be a whole number of at least 2 tokens (got ${seqLen})`);
}

/** The sequence length against the batch sizes and the model; the data against both. */
function checkData(o: TrainOptions): Windows {
  if (o.batchTokens % o.seqLen !== 0 || o.microBatchTokens % o.seqLen !== 0)
    throw new OptionError(
      ['batchTokens', 'microBatchTokens', 'seqLen'],
      `batchTokens (${o.batchTokens}) and microBatchTokens (${o.microBatchTokens}) must be multiples of seqLen (${o.seqLen})`,
    );
  checkSeqLen(o.seqLen, o.model.family.contextLength(o.model.config));
  const windows = new Windows(o.train, o.seqLen, o.seed);
  if (windows.count === 0)
    throw new OptionError(
      ['seqLen'],
      `the training data has ${o.train.ids.length} tokens: fewer than one sequence of ${o.seqLen + 1}; add data or lower seqLen`,
    );
  const vocab = o.model.family.vocabSize(o.model.config);
  const maxId = o.train.ids.reduce((a, b) => Math.max(a, b), 0);
  if (maxId >= vocab)
    throw new UserError(
      `the data holds token id ${maxId}, beyond the model's vocabulary (${vocab}): was it tokenized for another model?`,
    );
  return windows;
}

function checkPatience(o: TrainOptions): number {
  const patience = o.patience ?? 0;
  if (!Number.isInteger(patience) || patience < 0)
    throw new OptionError(['patience'], `patience must be a whole number of evaluations (got ${patience})`);
  if (patience > 0 && !(o.validation && o.evalEvery > 0))
    throw new OptionError(
      ['patience', 'evalEvery'],
      'patience needs evaluations: a validation split (a dataset folder, or enough text to hold out) and evalEvery above 0',
    );
  return patience;
}
