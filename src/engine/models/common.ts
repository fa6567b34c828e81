/** Graph pieces every causal LM family shares. */
import type { Graph, Tensor } from '../onnx/builder';

/** Positions 0..T-1 [T] (int64) and the additive causal mask [T, T] (0 on and below the diagonal). */
export function causalSequence(
  g: Graph,
  ids: Tensor,
  dtype: 'float32' | 'float64',
): { positions: Tensor; causalBias: Tensor } {
  const seqLen = g.gather(g.shapeOf(ids), g.constant(1, 'int64', [])); // scalar T
  const positions = g.range(g.constant(0, 'int64', []), seqLen, g.constant(1, 'int64', []), ids.shape[1]);
  const rows = g.unsqueeze(positions, [1]); // [T, 1]
  const cols = g.unsqueeze(positions, [0]); // [1, T]
  // −1e9, not −inf: a fully masked row never appears, and finite values keep the softmax NaN-free.
  const causalBias = g.where(
    g.lessOrEqual(cols, rows),
    g.constant(0, dtype, []),
    g.constant(-1e9, dtype, []),
  );
  return { positions, causalBias };
}

/** tanh approximation of GELU (GPT-2's gelu_new): 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))) */
export function geluTanh(g: Graph, x: Tensor): Tensor {
  const c = (v: number) => g.constant(v, x.dtype, []);
  const inner = g.mul(c(Math.sqrt(2 / Math.PI)), g.add(x, g.mul(c(0.044715), g.mul(x, g.mul(x, x)))));
  return g.mul(g.mul(c(0.5), x), g.add(c(1), g.tanh(inner)));
}
