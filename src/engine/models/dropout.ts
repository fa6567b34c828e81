/**
 * Inverted dropout for the LoRA path, with its mask hashed in the graph from (element index,
 * dropout_seed). The trainer feeds a seed derived from (run seed, step, micro-batch), so a resumed
 * run draws exactly the masks an uninterrupted one would (ORT's Dropout op keeps hidden state).
 */
import type { Graph, Tensor } from '../onnx/builder';

const TWO32 = 2 ** 32;

/** x·mask/(1−p) where mask = [u ≥ p], u uniform in [0, 1) from an integer hash of (index, seed). */
export function hashDropout(g: Graph, x: Tensor, p: number, seed: Tensor): Tensor {
  const int = (v: number) => g.constant(v, 'int64', []);
  const op = (type: string, a: Tensor, b: Tensor) =>
    g.node(type, [a, b], [{ dtype: 'int64', shape: a.shape }])[0];
  const mod32 = (t: Tensor) => op('Mod', t, int(TWO32));
  const xorShift = (t: Tensor, bits: number) => op('BitwiseXor', t, g.div(t, int(2 ** bits)));
  const size = g.node('Size', [x], [{ dtype: 'int64', shape: [] }])[0];
  const index = g.reshapeTo(g.range(int(0), size, int(1), 'numel'), g.shapeOf(x), x.shape); // like x
  // A murmur-style finaliser: xor-shifts and multiplications mod 2^32 (products stay below 2^63).
  let h = mod32(g.add(index, g.mul(seed, int(0x9e3779b1))));
  h = mod32(g.mul(xorShift(h, 16), int(0x7feb352d)));
  h = mod32(g.mul(xorShift(h, 15), int(0x5bd1e995)));
  h = xorShift(h, 16);
  const u = g.div(g.cast(h, x.dtype), g.constant(TWO32, x.dtype, []));
  const keep = g.lessOrEqual(g.constant(p, x.dtype, []), u);
  return g.where(keep, g.mul(x, g.constant(1 / (1 - p), x.dtype, [])), g.constant(0, x.dtype, []));
}
