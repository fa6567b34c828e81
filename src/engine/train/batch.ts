/**
 * What the graph is fed and writes into: batches of token windows, and the gradient buffers.
 * All are allocated once and reused every step.
 */
import type { Tensor as OrtTensor } from 'onnxruntime-node';
import type { Trainable } from '../models/params';
import { toOrt } from '../onnx/session';
import type { RunPlan } from './plan';

export interface Batch {
  rows: number;
  ids: BigInt64Array;
  labels: BigInt64Array;
  weights: Float32Array;
}

export function allocBatch(rows: number, seqLen: number): Batch {
  return {
    rows,
    ids: new BigInt64Array(rows * seqLen),
    labels: new BigInt64Array(rows * seqLen),
    weights: new Float32Array(rows * seqLen),
  };
}

export function feedsFor(
  b: Batch,
  seqLen: number,
  scale: number,
  trainables: Trainable[],
  values: Float32Array[],
) {
  const dims = [b.rows, seqLen];
  const feeds: Record<string, ReturnType<typeof toOrt>> = {
    input_ids: toOrt('int64', b.ids, dims),
    labels: toOrt('int64', b.labels, dims),
    loss_weights: toOrt('float32', b.weights, dims),
    loss_scale: toOrt('float32', Float32Array.of(scale), []),
  };
  trainables.forEach((t, k) => (feeds[t.name] = toOrt('float32', values[k], t.shape)));
  return feeds;
}

/** A step runs its windows in several micro-batches, their gradients summed in the graph. */
export function accumulates(plan: Pick<RunPlan, 'rowsPerStep' | 'rowsPerMicro'>): boolean {
  return plan.rowsPerStep > plan.rowsPerMicro;
}

/** A training step's buffers. */
export interface StepBuffers {
  /** One micro-batch of windows. */
  micro: Batch;
  /** The graph takes a dropout_seed input. */
  usesDropout: boolean;
  /** The step's gradient, by trainable index. */
  grads: Float32Array[];
  /** ORT writes each gradient into `grads`. */
  fetches: Record<string, OrtTensor | null>;
  /**
   * With accumulation, the graph's grad_in.<name> inputs: the same `grads` memory, so each
   * micro-batch adds its gradient in place (zeroed before the first). Empty otherwise.
   */
  gradFeeds: Record<string, OrtTensor>;
}

export function allocStepBuffers(
  usesDropout: boolean,
  trainables: Trainable[],
  plan: Pick<RunPlan, 'rowsPerStep' | 'rowsPerMicro'>,
  seqLen: number,
): StepBuffers {
  const grads = trainables.map((t) => new Float32Array(t.initial.length));
  const micro = allocBatch(plan.rowsPerMicro, seqLen);
  // Wrappers of the gradient buffers, made once: no allocation per step.
  const fetches: Record<string, OrtTensor | null> = { loss: null };
  const gradFeeds: Record<string, OrtTensor> = {};
  const summed = accumulates(plan);
  trainables.forEach((t, k) => {
    const tensor = toOrt('float32', grads[k], t.shape);
    fetches[`grad.${t.name}`] = tensor;
    if (summed) gradFeeds[`grad_in.${t.name}`] = tensor;
  });
  return { micro, usesDropout, grads, fetches, gradFeeds };
}
