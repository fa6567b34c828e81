/** Graph pieces every causal LM family shares. */
import { attr, type Graph, type Tensor } from '../onnx/builder';

/** 0..T−1 for token ids [B, T]: [T] int64. */
export function sequencePositions(g: Graph, ids: Tensor): Tensor {
  const seqLen = g.gather(g.shapeOf(ids), g.constant(1, 'int64', [])); // scalar T
  return g.range(g.constant(0, 'int64', []), seqLen, g.constant(1, 'int64', []), ids.shape[1]);
}

/**
 * tanh approximation of GELU (GPT-2's gelu_new): 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))),
 * written as x·σ(x·(a + b·x²)) with a = 2√(2/π), b = 0.044715·a (0.5·(1 + tanh u) = σ(2u)):
 * 6 elementwise nodes instead of 9 over [B, T, 4C], and 13 instead of 16 in its backward pass.
 */
export function geluTanh(g: Graph, x: Tensor, o: { fused?: boolean } = {}): Tensor {
  // Training graphs in float32: ORT's FastGelu (com.microsoft, the same formula) is one pass
  // instead of 6 and keeps no intermediates alive for the backward pass (its rule recomputes).
  if (o.fused && x.dtype === 'float32')
    return g.node('FastGelu', [x], [{ dtype: x.dtype, shape: x.shape }], {}, 'com.microsoft')[0];
  const c = (v: number) => g.constant(v, x.dtype, []);
  const a = 2 * Math.sqrt(2 / Math.PI);
  const inner = g.mul(x, g.add(c(a), g.mul(c(0.044715 * a), g.mul(x, x))));
  return g.mul(x, g.sigmoid(inner));
}

/**
 * SiLU, x·σ(x). Float32 training graphs take onnxruntime's QuickGelu (com.microsoft, x·σ(α·x) at
 * α = 1): one pass instead of Sigmoid and Mul, and no σ kept alive for the backward pass (its rule
 * recomputes it). Inference graphs keep the two nodes, which onnxruntime fuses itself.
 */
export function silu(g: Graph, x: Tensor, o: { fused?: boolean } = {}): Tensor {
  if (o.fused && x.dtype === 'float32')
    return g.node('QuickGelu', [x], [{ dtype: x.dtype, shape: x.shape }], { alpha: attr.float(1) }, 'com.microsoft')[0];
  return g.mul(x, g.sigmoid(x));
}

/**
 * How an inference graph stores its KV cache, in the layout `@huggingface/transformers` loads:
 * `heads`: `past_key_values.{i}.key|value` [B, KV, P, D] (GPT-2, Llama, Qwen2);
 * `fused`: `past_key_values.{i}.key_value` [B, P, 2·D] (GPTBigCode's multi-query cache, KV = 1).
 * Outputs `present.{i}.…` have P + T in place of P.
 */
export interface KvLayout {
  nLayer: number;
  kvHeads: number;
  headDim: number;
  fused: boolean;
}

/** The cache tensors' input (past) and output (present) names, in layer order. */
export function kvNames(layout: KvLayout): { past: string; present: string }[] {
  const parts = layout.fused ? ['key_value'] : ['key', 'value'];
  const out: { past: string; present: string }[] = [];
  for (let i = 0; i < layout.nLayer; i++)
    for (const part of parts)
      out.push({ past: `past_key_values.${i}.${part}`, present: `present.${i}.${part}` });
  return out;
}

/**
 * What a family's forward pass needs to run with a KV cache (an inference graph). Without it
 * (training, scoring) positions are 0..T-1 and the mask is causal over the T tokens alone.
 */
export interface KvCache {
  /** position_ids [B, T] (int64). */
  readonly positions: Tensor;
  /** Additive mask [B, 1, T, P+T]: query t sees keys j ≤ P + t whose attention_mask is 1. */
  readonly bias: Tensor;
  /**
   * The graph runs in onnxruntime-node alone (the Decoder's private graph, never exported): a
   * family may use onnxruntime's fused contrib operators where they replace many small nodes.
   */
  readonly fusedOps: boolean;
  /** Appends layer `layer`'s new keys and values [B, KV, T, D] to its past: [B, KV, P+T, D] each. */
  extend(layer: number, k: Tensor, v: Tensor): { k: Tensor; v: Tensor };
}

/** The names of a `new`-output graph's cache outputs (see kvCacheContext), in layer order. */
export function kvNewNames(layout: KvLayout): string[] {
  return kvNames(layout).map((n) => n.present.replace(/^present\./, 'new.'));
}

/**
 * Builds the cache inputs of an inference graph for token ids [B, T]: attention_mask [B, P+T],
 * position_ids [B, T] and the past of every layer. `finish()` adds the cache outputs after the
 * caller's own outputs (logits first, as exporters order them) and checks every layer used its cache.
 * `outputs`: 'present' (default, the exported interface): `present.*` with P+T positions;
 * 'new' (our decoder's private graph): `new.*` with only the T new positions ([B, KV, T, D] or
 * [B, T, 2D]), so a caller that keeps the cache in its own buffers appends T rows instead of
 * receiving (and copying) the whole cache every step. Attention is the same either way.
 */
export function kvCacheContext(
  g: Graph,
  ids: Tensor,
  layout: KvLayout,
  dtype: 'float32' | 'float64' = 'float32',
  o: { outputs?: 'present' | 'new' } = {},
): KvCache & { finish(): void } {
  const newOnly = o.outputs === 'new';
  const { nLayer, kvHeads: KV, headDim: D, fused } = layout;
  const mask = g.input('attention_mask', 'int64', ['batch_size', 'total_sequence_length']);
  const positions = g.input('position_ids', 'int64', ['batch_size', 'sequence_length']);
  const pastShape = fused
    ? ['batch_size', 'past_sequence_length', 2 * D]
    : ['batch_size', KV, 'past_sequence_length', D];
  const past = new Map(kvNames(layout).map((n) => [n.past, g.input(n.past, dtype, pastShape)]));

  const int = (v: number) => g.constant(v, 'int64', []);
  const scalarDim = (t: Tensor, axis: number) => g.gather(g.shapeOf(t), int(axis));
  const T = scalarDim(ids, 1);
  const S = scalarDim(mask, 1); // P + T
  const keys = g.range(int(0), S, int(1), 'total_sequence_length'); // [S]
  const queries = g.add(g.range(int(0), T, int(1), 'sequence_length'), g.sub(S, T)); // [T]: P..P+T-1
  const causal = g.where(
    g.lessOrEqual(g.unsqueeze(keys, [0]), g.unsqueeze(queries, [1])),
    g.constant(0, dtype, []),
    g.constant(-1e9, dtype, []),
  ); // [T, S]
  // Padding: (mask − 1)·1e9 is 0 for real tokens and −1e9 for padding, per key.
  const padding = g.mul(g.sub(g.cast(mask, dtype), g.constant(1, dtype, [])), g.constant(1e9, dtype, []));
  const bias = g.add(causal, g.unsqueeze(padding, [1, 2])); // [B, 1, T, S]

  const presents: { t: Tensor; name: string }[] = [];
  const done = new Set<number>();
  const concat = (a: Tensor, b: Tensor, axis: number, name: string, shape: (string | number)[]) => {
    const all = g.node('Concat', [a, b], [{ dtype, shape, name: newOnly ? undefined : name }], {
      axis: attr.int(axis),
    })[0];
    if (!newOnly) presents.push({ t: all, name });
    else presents.push({ t: b, name: name.replace(/^present\./, 'new.') });
    return all;
  };
  return {
    positions,
    bias,
    fusedOps: newOnly,
    extend(layer, k, v) {
      if (done.has(layer)) throw new Error(`KV cache: layer ${layer} extended twice`);
      done.add(layer);
      if (!fused) {
        const shape = ['batch_size', KV, 'total_sequence_length', D];
        const kAll = concat(past.get(`past_key_values.${layer}.key`)!, k, 2, `present.${layer}.key`, shape);
        const vAll = concat(
          past.get(`past_key_values.${layer}.value`)!,
          v,
          2,
          `present.${layer}.value`,
          shape,
        );
        return { k: kAll, v: vAll };
      }
      // One key/value head: [B, 1, T, D] → [B, T, D], side by side → [B, T, 2D] after the past.
      const kv = g.concat([g.squeeze(k, [1]), g.squeeze(v, [1])], -1); // [B, T, 2D]
      const all = concat(
        past.get(`past_key_values.${layer}.key_value`)!,
        kv,
        1,
        `present.${layer}.key_value`,
        ['batch_size', 'total_sequence_length', 2 * D],
      );
      const [kAll, vAll] = g.split(all, [D, D], -1).map((t) => g.unsqueeze(t, [1])); // [B, 1, S, D]
      return { k: kAll, v: vAll };
    },
    finish() {
      if (done.size !== nLayer)
        throw new Error(
          `KV cache: ${done.size} of ${nLayer} layers used the cache (a family without a cache path?)`,
        );
      // The new-only outputs take their names in place (no Identity per layer and step).
      for (const { t, name } of presents)
        if (newOnly) g.outputRenamed(t, name);
        else g.output(t, name);
    },
  };
}

/**
 * Extra float32 columns for an activation of `width` columns whose rows would otherwise be a
 * multiple of 4 KiB apart. SGEMM reads a dozen rows of its left operand at once; at such strides
 * they share L1 cache sets and evict each other. Measured on gpt2-small's [1024, 3072] x
 * [3072, 768] product (onnxruntime, 2 threads): 35-37 ms at width 3072, 24-25 ms at 3088.
 */
export function stridePad(width: number): number {
  return (width * 4) % 4096 === 0 ? 16 : 0;
}
