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

/** A training step's buffers. */
export interface StepBuffers {
  /** One micro-batch of windows. */
  micro: Batch;
  /** The graph takes a dropout_seed input. */
  usesDropout: boolean;
  /** The step's gradient, by trainable index. */
  grads: Float32Array[];
  /** Where micro-batches after the first write theirs, to be added into `grads` (none without accumulation). */
  microGrads: Float32Array[];
  firstFetches: Record<string, OrtTensor | null>;
  laterFetches: Record<string, OrtTensor | null>;
}

export function allocStepBuffers(
  usesDropout: boolean,
  trainables: Trainable[],
  plan: Pick<RunPlan, 'rowsPerStep' | 'rowsPerMicro'>,
  seqLen: number,
): StepBuffers {
  const grads = trainables.map((t) => new Float32Array(t.initial.length));
  const micro = allocBatch(plan.rowsPerMicro, seqLen);
  // ORT writes gradients into these buffers, no allocation per step: the first micro-batch's
  // straight into the step's sums, later ones into a second set that is then added.
  const fetchesInto = (buffers: Float32Array[]) => {
    const fetches: Record<string, OrtTensor | null> = { loss: null };
    trainables.forEach((t, k) => (fetches[`grad.${t.name}`] = toOrt('float32', buffers[k], t.shape)));
    return fetches;
  };
  const firstFetches = fetchesInto(grads);
  const accumulates = plan.rowsPerStep > plan.rowsPerMicro;
  const microGrads = accumulates ? trainables.map((t) => new Float32Array(t.initial.length)) : [];
  const laterFetches = accumulates ? fetchesInto(microGrads) : firstFetches;
  return { micro, usesDropout, grads, microGrads, firstFetches, laterFetches };
}
