/**
 * Causal attention with grouped key/value heads, shared by the families whose heads share keys:
 * grouped-query (Llama, Qwen2: KV < H) and multi-query (GPTBigCode: KV = 1). Full multi-head
 * attention is the case n = 1.
 *
 * The repeat-free layout: the n query heads of one key/value head are stacked along the time axis,
 * q [B, KV, n·T, D] · kᵀ [B, KV, D, T], so one batched MatMul per key/value head replaces HF's
 * repeat_kv (no [B, H, T, D] copies of k and v, and no sum over copies in the backward pass).
 * Training graphs (no KV cache) attend in two blocks of query positions (`causalBlocks`); GPT-2's
 * training graph does too, as the case KV = H.
 * Shapes: B batch, T time, H = KV·n query heads, KV key/value heads, D head size.
 */
import { attr, type Dim, type Graph, type Tensor } from '../onnx/builder';
import { dimProduct } from '../onnx/shapes';
import { sequencePositions, type KvCache } from './common';

/** What attention masks with: one causal bias, or (a training graph) two blocks of query positions. */
export type CausalMask = { bias: Tensor } | { blocks: CausalBlocks };

/**
 * Positions and causal mask of a graph without a KV cache, for n query heads per key/value head:
 * a training graph's two blocks (causalBlocks), or one bias [n·T, T].
 */
export function sequenceMask(
  g: Graph,
  ids: Tensor,
  n: number,
  o: { training: boolean; dtype: 'float32' | 'float64' },
): { positions: Tensor; mask: CausalMask } {
  if (o.training) {
    const positions = sequencePositions(g, ids);
    return { positions, mask: { blocks: causalBlocks(g, positions, n, o.dtype) } };
  }
  const positions = sequencePositions(g, ids);
  return { positions, mask: { bias: stackedCausalBias(g, positions, positions, n, o.dtype) } };
}

/** `groupedAttention` with one bias, or `blockCausalAttention` with a training graph's blocks. */
export function causalAttention(
  g: Graph,
  q: Tensor,
  k: Tensor,
  v: Tensor,
  mask: CausalMask,
  cached?: { cache: KvCache; layer: number },
): Tensor {
  return 'blocks' in mask
    ? blockCausalAttention(g, q, k, v, mask.blocks)
    : groupedAttention(g, q, k, v, mask.bias, cached);
}

/** The KV cache's mask [B, 1, T, S] for n stacked query heads: [B, 1, n·T, S] (row r is query r mod T). */
export function groupedCacheBias(g: Graph, cacheBias: Tensor, n: number): Tensor {
  if (n === 1) return cacheBias;
  const [B, , T, S] = cacheBias.shape;
  return g.node(
    'Tile',
    [cacheBias, g.ints([1, 1, n, 1])],
    [{ dtype: cacheBias.dtype, shape: [B, 1, dimProduct([n, T]), S] }],
  )[0];
}

/**
 * softmax(q·kᵀ/√D + mask)·v with query head h reading key/value head ⌊h / n⌋ (HF's repeat_kv order).
 * q [B, T, H, D], k and v [B, T, KV, D], bias from `sequenceMask` → [B, T, H·D].
 * With `cached` (an inference graph) the keys and values extend layer `layer`'s KV cache, so they
 * span S = P + T positions, and the bias comes from `groupedCacheBias`.
 */
export function groupedAttention(
  g: Graph,
  q: Tensor,
  k: Tensor,
  v: Tensor,
  bias: Tensor,
  cached?: { cache: KvCache; layer: number },
): Tensor {
  const H = q.shape[2] as number;
  const KV = k.shape[2] as number;
  const qs = stackQueries(g, q, KV);
  const vh = g.transpose(v, [0, 2, 1, 3]); // [B, KV, T, D]
  if (cached) return attendCached(g, qs, g.transpose(k, [0, 2, 1, 3]), vh, bias, cached, H);
  return attend(g, qs, g.transpose(k, [0, 2, 3, 1]), vh, bias, H); // kᵀ [B, KV, D, T]: S = T
}

/** q [B, T, H, D] → [B, KV, n·T, D], the n query heads of each key/value head stacked, scaled by 1/√D. */
function stackQueries(g: Graph, q: Tensor, KV: number): Tensor {
  const [H, D] = [q.shape[2] as number, q.shape[3] as number];
  const qg = g.reshape(g.transpose(g.reshape(q, [0, 0, KV, H / KV, D]), [0, 2, 3, 1, 4]), [0, 0, -1, D]);
  return g.mul(qg, g.constant(1 / Math.sqrt(D), q.dtype, []));
}

/**
 * A causal mask cut in two blocks of query positions, for graphs without a KV cache (training):
 * queries [0, T₁) attend to keys [0, T₁) only, queries [T₁, T) to all T keys, T₁ = ⌊T/2⌋. The
 * first block's scores against the second block's keys, all masked, are never made: 3/4 of the
 * score-sized work (two products, mask, softmax, and twice that in the backward pass).
 */
export interface CausalBlocks {
  /** int64 [2]: T₁, T − T₁. */
  sizes: Tensor;
  /** The first block's mask [n·T₁, T₁] and the second's [n·(T − T₁), T], in the stacked layout. */
  lo: Tensor;
  hi: Tensor;
}

/** The blocks of `positions` [T] (0..T−1) for n query heads stacked per key/value head. */
export function causalBlocks(g: Graph, positions: Tensor, n: number, dtype: 'float32' | 'float64'): CausalBlocks {
  const length = g.shapeOf(positions); // [1]: T
  const half = g.div(length, g.ints([2]));
  const sizes = g.concat([half, g.sub(length, half)], 0);
  const [lower, upper] = splitPositions(g, positions, sizes, 0); // 0..T₁−1, T₁..T−1
  return {
    sizes,
    lo: stackedCausalBias(g, lower, lower, n, dtype),
    hi: stackedCausalBias(g, upper, positions, n, dtype),
  };
}

/**
 * 0 where key position ≤ query position, −1e9 elsewhere: [n·R, S] for query rows `rows` [R] stacked
 * n times (row r is query r mod R). −1e9, not −inf: no row is fully masked, and finite values keep
 * the softmax NaN-free.
 */
function stackedCausalBias(g: Graph, rows: Tensor, cols: Tensor, n: number, dtype: 'float32' | 'float64'): Tensor {
  const stacked = n === 1 ? rows : g.node('Tile', [rows, g.ints([n])], [{ dtype: 'int64', shape: [dimProduct([n, rows.shape[0]])] }])[0];
  return g.where(
    g.lessOrEqual(g.unsqueeze(cols, [0]), g.unsqueeze(stacked, [1])),
    g.constant(0, dtype, []),
    g.constant(-1e9, dtype, []),
  );
}

/**
 * `x` cut along its position axis at T₁ by `sizes` (CausalBlocks.sizes, so a static T gives the
 * parts ⌊T/2⌋ and T − ⌊T/2⌋). A Split: its gradient pads an unused part with zeros.
 */
function splitPositions(g: Graph, x: Tensor, sizes: Tensor, axis: number): Tensor[] {
  const T = x.shape[axis];
  const parts: Dim[] = typeof T === 'number' ? [Math.floor(T / 2), T - Math.floor(T / 2)] : ['T_lo', 'T_hi'];
  const outs = parts.map((t) => ({ dtype: x.dtype, shape: x.shape.map((d, i) => (i === axis ? t : d)) }));
  return g.node('Split', [x, sizes], outs, { axis: attr.int(axis) });
}

/** `groupedAttention` (no cache) computed in the two blocks of `blocks` → [B, T, H·D]. */
export function blockCausalAttention(g: Graph, q: Tensor, k: Tensor, v: Tensor, blocks: CausalBlocks): Tensor {
  const [H, KV] = [q.shape[2] as number, k.shape[2] as number];
  const [qLo, qHi] = splitPositions(g, q, blocks.sizes, 1);
  const kT = g.transpose(k, [0, 2, 3, 1]); // [B, KV, D, T]
  const vh = g.transpose(v, [0, 2, 1, 3]); // [B, KV, T, D]
  // The first block's keys and values: Split, whose gradient pads with zeros in one Concat.
  const [kTLo] = splitPositions(g, kT, blocks.sizes, 3);
  const [vLo] = splitPositions(g, vh, blocks.sizes, 2);
  const yLo = attend(g, stackQueries(g, qLo, KV), kTLo, vLo, blocks.lo, H); // [B, T₁, H·D]
  const yHi = attend(g, stackQueries(g, qHi, KV), kT, vh, blocks.hi, H); // [B, T − T₁, H·D]
  return g.concat([yLo, yHi], 1);
}

/**
 * `groupedAttention` with a KV cache on head-major q [B, H, T, D] and k, v [B, KV, T, D] (the
 * Decoder's own graph splits its fused q/k/v product into heads with one Transpose): q's n heads
 * per key/value head are already [B, KV, n, T, D], the stacked layout, so one Reshape stacks them.
 */
export function groupedAttentionOnHeads(
  g: Graph,
  q: Tensor,
  k: Tensor,
  v: Tensor,
  bias: Tensor,
  cached: { cache: KvCache; layer: number },
): Tensor {
  const [KV, D] = [k.shape[1] as number, k.shape[3] as number];
  const qg = g.reshape(q, [0, KV, -1, D]); // [B, KV, n·T, D]
  const qs = g.mul(qg, g.constant(1 / Math.sqrt(D), q.dtype, []));
  return attendCached(g, qs, k, v, bias, cached, q.shape[1] as number);
}

/** Attention over layer `layer`'s cache extended by kh, vh [B, KV, T, D]. */
function attendCached(
  g: Graph,
  qs: Tensor,
  kh: Tensor,
  vh: Tensor,
  bias: Tensor,
  cached: { cache: KvCache; layer: number },
  H: number,
): Tensor {
  const all = cached.cache.extend(cached.layer, kh, vh); // [B, KV, S, D]
  return attend(g, qs, g.transpose(all.k, [0, 1, 3, 2]), all.v, bias, H);
}

/** softmax(qs·kT + bias)·v for qs [B, KV, n·T, D] (already scaled), kT [B, KV, D, S], v [B, KV, S, D] → [B, T, H·D]. */
function attend(g: Graph, qs: Tensor, kT: Tensor, v: Tensor, bias: Tensor, H: number): Tensor {
  const [KV, D] = [kT.shape[1] as number, kT.shape[2] as number];
  const n = H / KV;
  const scores = g.add(g.matmul(qs, kT), bias); // [B, KV, n·T, S]
  const y = g.matmul(g.softmax(scores, -1), v); // [B, KV, n·T, D]
  const heads = g.transpose(g.reshape(y, [0, 0, n, -1, D]), [0, 3, 1, 2, 4]); // [B, T, KV, n, D]
  return g.reshape(heads, [0, 0, H * D]); // [B, T, H·D]
}
