/**
 * A hand-off plan: a LocalTune run's settings, resolved exactly as our trainer would run them
 * (`trainOptionsFrom` + `planRun`: defaults by model size, steps from epochs, batch shapes), in the
 * terms every trainer shares. Each engine's writer maps this one object onto its own config keys.
 */
import type { LoraSettings } from '../../engine/formats/peft';
import type { TrainOptions } from '../../engine/train/options';
import { planRun } from '../../engine/train/plan';

export interface HandoffPlan {
  /** What the engine loads: the hub id when there is one, else the local folder's path. */
  baseModel: string;
  mode: 'lora' | 'full';
  lora: LoraSettings;
  seqLen: number;
  /** Sequences per device per forward pass (our micro-batch). */
  microBatchSize: number;
  /** Micro-batches per optimizer step on one device (ours: batchTokens / microBatchTokens). */
  gradientAccumulation: number;
  /** Optimizer steps our trainer would run (set explicitly, or from the epochs over our windows). */
  steps: number;
  /** When the user gave epochs rather than steps: the engine counts them over its own packing. */
  epochs: number | null;
  lr: number;
  warmupSteps: number;
  /** Cosine decay ends at this share of the peak rate. */
  minLrRatio: number;
  weightDecay: number;
  clipNorm: number;
  /** Evaluate every N steps (0: never); checkpoint every N (0: only at the end). */
  evalEvery: number;
  checkpointEvery: number;
  /** Evaluations without a new best before stopping early (0: never), and whether the best is kept. */
  patience: number;
  keepBest: boolean;
  seed: number;
  /** The tokenizer's end-of-document token (separates our packed documents). */
  eosToken: string;
  /** FIM marker tokens the dataset uses (the tokenizer's own special tokens), empty without FIM. */
  fimTokens: string[];
}

export function handoffPlan(o: TrainOptions, tokens: { eosToken: string; fimTokens: string[] }): HandoffPlan {
  const run = planRun(o);
  return {
    baseModel: o.baseModelName,
    mode: o.mode,
    lora: o.lora,
    seqLen: o.seqLen,
    microBatchSize: run.rowsPerMicro,
    gradientAccumulation: Math.ceil(run.rowsPerStep / run.rowsPerMicro),
    steps: run.totalSteps,
    epochs: o.steps === undefined ? (o.epochs ?? 1) : null,
    lr: o.lr,
    warmupSteps: o.warmupSteps,
    minLrRatio: o.minLrRatio,
    weightDecay: o.weightDecay,
    clipNorm: o.clipNorm,
    evalEvery: o.validation ? o.evalEvery : 0,
    checkpointEvery: o.checkpointEvery,
    patience: o.validation ? run.patience : 0,
    keepBest: o.validation ? run.keepBest : false,
    seed: o.seed,
    eosToken: tokens.eosToken,
    fimTokens: tokens.fimTokens,
  };
}
