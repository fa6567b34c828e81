/**
 * The inference graph: the model's forward pass with a KV cache and the LM head, in the interface
 * `@huggingface/transformers` loads (and our decoder runs):
 * inputs  input_ids [B, T], attention_mask [B, P+T], position_ids [B, T] (int64),
 *         past_key_values.{i}.key|value [B, KV, P, D] (`key_value` [B, P, 2D] for GPTBigCode),
 *         num_logits_to_keep [] (int64: 0 = logits for every position, k = the last k);
 * outputs logits [B, T or k, V], present.{i}.… with P+T in place of P.
 * Weights are frozen initializers; a LoRA adapter is merged into them first.
 */
import { UserError } from '../errors';
import type { Adapter } from '../formats/peft';
import { Graph } from '../onnx/builder';
import type { LoadedModel } from '../models';
import { kvCacheContext, type KvLayout } from '../models/common';
import type { WeightSource } from '../formats/weights';
import { ModelParams } from '../models/params';
import { mergeLora } from './merge';

export interface InferenceGraph {
  graph: Graph;
  layout: KvLayout;
}

/** The weights an inference graph bakes in: the base model's, with the adapter merged when given. */
export function inferenceWeights(
  model: LoadedModel,
  adapter?: Adapter,
): { source: WeightSource; check(): void } {
  if (!adapter) return { source: model.weights, check: () => undefined };
  const merged = mergeLora(model.weights, adapter, { fanInFanOut: model.family.fanInFanOut });
  return {
    source: merged,
    check() {
      const left = merged.unmerged();
      if (left.length)
        throw new UserError(
          `the adapter's modules ${left.slice(0, 3).join(', ')}${left.length > 3 ? ', …' : ''} are not in this ${model.modelType} model; was it trained on another base model?`,
        );
    },
  };
}

/**
 * `cacheOutputs` 'new' (the Decoder's private graph, never exported): `new.{i}.…` with the T new
 * positions in place of `present.{i}.…` (kvCacheContext); the inputs and logits are the same.
 */
export function buildInferenceGraph(
  model: LoadedModel,
  o: { adapter?: Adapter; cacheOutputs?: 'present' | 'new' } = {},
): InferenceGraph {
  const g = new Graph('localtune-inference');
  const layout = model.family.kvLayout(model.config);
  const ids = g.input('input_ids', 'int64', ['batch_size', 'sequence_length']);
  const cache = kvCacheContext(g, ids, layout, 'float32', { outputs: o.cacheOutputs });
  const keep = g.input('num_logits_to_keep', 'int64', []);
  const weights = inferenceWeights(model, o.adapter);
  const p = new ModelParams(g, weights.source, { mode: 'frozen' });
  // Families take the cache as an optional last argument (the training graph passes none).
  const hidden = model.family.hidden(g, model.config, p, ids, cache); // [B, T, C]
  weights.check();

  // Keep the last k positions (all when k = 0): decoding needs one row of logits, not T.
  const int = (v: number) => g.constant(v, 'int64', []);
  const T = g.gather(g.shapeOf(ids), int(1));
  const start = g.where(g.less(int(0), keep), g.sub(T, keep), int(0));
  const kept = g.sliceDynamic(
    hidden,
    g.unsqueeze(start, [0]),
    g.ints([2 ** 53]),
    [1],
    ['batch_size', 'kept_sequence_length', hidden.shape[2]],
  ); // [B, K, C]
  const width = hidden.shape[2] as number;
  const head = p.weight(model.family.headName(model.config)); // [V, C]
  const vocab = head.shape[0] as number;
  const rows = g.reshape(kept, [-1, width]); // [B·K, C]
  const flat = g.gemm(rows, head, null, { transB: true }); // [B·K, V]
  const outShape = g.concat([g.slice(g.shapeOf(kept), [0], [2], [0]), g.ints([vocab])], 0);
  const logits = g.node(
    'Reshape',
    [flat, outShape],
    [{ dtype: 'float32', shape: ['batch_size', 'kept_sequence_length', vocab], name: 'logits' }],
  )[0];
  g.output(logits);
  cache.finish();
  return { graph: g, layout };
}
