/** The state a training run's phases share: set up once, then handed from phase to phase. */
import type { InferenceSession } from 'onnxruntime-node';
import type { Trainable } from '../models/params';
import type { AdamW } from './adamw';
import type { StepBuffers } from './batch';
import type { TrainerState } from './checkpoint';
import type { TrainEvent } from './events';
import type { TrainOptions } from './options';
import type { RunPlan } from './plan';

export interface Run {
  readonly o: TrainOptions;
  readonly plan: RunPlan;
  /** Reports an event; steps and evaluations also go to metrics.jsonl. */
  readonly emit: (e: TrainEvent) => void;
  readonly trainables: Trainable[];
  /** The trainables' values (by index); the optimizer updates them in place. */
  readonly values: Float32Array[];
  readonly adam: AdamW;
  /** Steps done, data position and the best evaluation: what a checkpoint saves beside the tensors. */
  readonly state: TrainerState;
  /** The train-step graph: forward, loss, gradients. */
  readonly session: InferenceSession;
  /** The forward-only graph for evaluation, made at the first one. */
  evalSession?: InferenceSession;
  readonly buffers: StepBuffers;
  /** Date.now() when the loop began (for the steps' `elapsed`). */
  readonly started: number;
}
