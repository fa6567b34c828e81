/** What a training run is told: the model, the data, the settings, and the hooks it reports to. */
import type { LoadedModel } from '../models';
import type { LoraSettings } from '../formats/peft';
import type { BaseDtype } from '../models/params';
import type { TrainEvent } from './events';
import type { TokenStream } from './windows';

export interface TrainOptions {
  model: LoadedModel;
  /** Name recorded in the adapter (base_model_name_or_path). */
  baseModelName: string;
  train: TokenStream;
  validation?: TokenStream;
  mode: 'lora' | 'full';
  lora: LoraSettings;
  /** LoRA: the frozen base in float32 (default) or int8 (see models/params.ts); adapters are the same. */
  baseDtype?: BaseDtype;
  /** With an int8 base: modules kept in float32 (as LoRA targets are named; `lm_head`: the head). */
  int8Except?: readonly string[];
  /** Optimizer steps; derived from `epochs` when absent. */
  steps?: number;
  epochs?: number;
  lr: number;
  warmupSteps: number;
  minLrRatio: number;
  weightDecay: number;
  clipNorm: number;
  /** Tokens per optimizer step (a multiple of seqLen). */
  batchTokens: number;
  seqLen: number;
  /** Tokens per graph run; smaller micro-batches bound the logits' memory. */
  microBatchTokens: number;
  evalEvery: number;
  /** Upper bound on validation tokens per evaluation. */
  evalTokens: number;
  /**
   * Early stopping: end the run after this many evaluations in a row without a new lowest
   * validation loss (0 or absent: off). Turns on `keepBest` unless it is set to false.
   */
  patience?: number;
  /** Keep the best evaluation's trainables in `<run>/best/`, and make them the final adapter/model. */
  keepBest?: boolean;
  checkpointEvery: number;
  seed: number;
  outDir: string;
  /** A run folder or checkpoint folder to continue from. */
  resumeFrom?: string;
  /** LoRA starting values by graph input name (a loaded adapter), instead of fresh A/B. */
  initialLora?: ReadonlyMap<string, Float32Array>;
  threads?: number;
}

export interface TrainHooks {
  onEvent?(e: TrainEvent): void;
  /** Polled between steps: true stops gracefully after writing a checkpoint. */
  shouldStop?(): boolean;
}
