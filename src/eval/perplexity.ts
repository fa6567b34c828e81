/**
 * Validation loss and perplexity of a model (with an adapter baked in) on a token stream: the
 * weighted mean cross-entropy over consecutive windows of `seqLen + 1` tokens, as the trainer's
 * periodic evaluation computes it, so the figures compare with the run's eval curve.
 */
import type { Adapter } from '../engine/formats/peft';
import type { LoadedModel } from '../engine/models';
import { toOrt } from '../engine/onnx/session';
import { scoringSession } from '../engine/train/score';
import { Windows, type TokenStream } from '../engine/train/windows';

export interface LossFigures {
  /** Mean cross-entropy per weighted token (nats). */
  loss: number;
  /** exp(loss). */
  perplexity: number;
  /** Weighted tokens the figures are over. */
  tokens: number;
}

export interface LossOptions {
  adapter?: Adapter;
  seqLen: number;
  /** Upper bound on the tokens read (the first windows of the stream, in order). */
  maxTokens?: number;
  /** Windows per graph run (default 4). */
  rowsPerRun?: number;
  threads?: number;
}

/** Null when the stream holds less than one window or no weighted token. */
export async function validationLoss(
  model: LoadedModel,
  stream: TokenStream,
  o: LossOptions,
): Promise<LossFigures | null> {
  const windows = new Windows(stream, o.seqLen, 0);
  const count = Math.min(windows.count, Math.max(1, Math.floor((o.maxTokens ?? Infinity) / o.seqLen)));
  if (count === 0) return null;
  const session = await scoringSession(model, o);
  const rows = Math.max(1, o.rowsPerRun ?? 4);
  const T = o.seqLen;
  let sum = 0;
  let weight = 0;
  try {
    for (let w0 = 0; w0 < count; w0 += rows) {
      const n = Math.min(rows, count - w0);
      const ids = new BigInt64Array(n * T);
      const labels = new BigInt64Array(n * T);
      const weights = new Float32Array(n * T);
      for (let r = 0; r < n; r++) weight += windows.fill(w0 + r, r, ids, labels, weights);
      const out = await session.run({
        input_ids: toOrt('int64', ids, [n, T]),
        labels: toOrt('int64', labels, [n, T]),
        loss_weights: toOrt('float32', weights, [n, T]),
        loss_scale: toOrt('float32', Float32Array.of(1), []),
      });
      sum += (out.loss.data as Float32Array)[0];
    }
  } finally {
    await session.release();
  }
  if (weight === 0) return null;
  const loss = sum / weight;
  return { loss, perplexity: Math.exp(loss), tokens: weight };
}
