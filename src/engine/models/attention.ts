/**
 * Causal attention with grouped key/value heads, shared by the families whose heads share keys:
 * grouped-query (Llama, Qwen2: KV < H) and multi-query (GPTBigCode: KV = 1). Full multi-head
 * attention is the case n = 1.
 *
 * The repeat-free layout: the n query heads of one key/value head are stacked along the time axis,
 * q [B, KV, n·T, D] · kᵀ [B, KV, D, T], so one batched MatMul per key/value head replaces HF's
 * repeat_kv (no [B, H, T, D] copies of k and v, and no sum over copies in the backward pass).
 * Shapes: B batch, T time, H = KV·n query heads, KV key/value heads, D head size.
 */
import type { Graph, Tensor } from '../onnx/builder';
import { dimProduct } from '../onnx/shapes';
import type { KvCache } from './common';

/**
 * The additive causal mask for n query heads stacked per key/value head: [n·T, T], row r is query
 * position r mod T (the stacked layout). For n = 1 it is `causalBias` [T, T] itself.
 */
export function groupedCausalBias(g: Graph, positions: Tensor, causalBias: Tensor, n: number): Tensor {
  if (n === 1) return causalBias;
  const rows = g.node(
    'Tile',
    [positions, g.ints([n])],
    [{ dtype: 'int64', shape: [dimProduct([n, positions.shape[0]])] }],
  )[0]; // [n·T]: 0..T-1 repeated n times
  return g.where(
    g.lessOrEqual(g.unsqueeze(positions, [0]), g.unsqueeze(rows, [1])),
    g.constant(0, causalBias.dtype, []),
    g.constant(-1e9, causalBias.dtype, []),
  ); // [n·T, T]
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
 * q [B, T, H, D], k and v [B, T, KV, D], bias from `groupedCausalBias` → [B, T, H·D].
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
  const [H, D] = [q.shape[2] as number, q.shape[3] as number];
  const KV = k.shape[2] as number;
  const n = H / KV;
  const qg = g.reshape(g.transpose(g.reshape(q, [0, 0, KV, n, D]), [0, 2, 3, 1, 4]), [0, 0, -1, D]); // [B, KV, n·T, D]
  const qs = g.mul(qg, g.constant(1 / Math.sqrt(D), q.dtype, []));
  const vh = g.transpose(v, [0, 2, 1, 3]); // [B, KV, T, D]
  if (cached) return attendCached(g, qs, g.transpose(k, [0, 2, 1, 3]), vh, bias, cached, H);
  return attend(g, qs, g.transpose(k, [0, 2, 3, 1]), vh, bias, H); // kᵀ [B, KV, D, T]: S = T
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
