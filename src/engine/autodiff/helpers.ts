/** Shared pieces of the gradient rules: undoing broadcasts, reading constants, zeros. */
import type { Graph, Tensor } from '../onnx/builder';
import { broadcastAxes } from '../onnx/shapes';

/** Sums `grad` back to `input`'s shape over the axes a broadcast expanded (one helper for all rules). */
export function unbroadcast(g: Graph, grad: Tensor, input: Tensor): Tensor {
  const axes = broadcastAxes(input.shape, grad.shape);
  if (axes.length === 0) return grad;
  const lead = grad.rank - input.rank;
  const summed = g.reduceSum(grad, axes, true);
  return lead > 0 ? g.squeeze(summed, [...Array(lead).keys()]) : summed;
}

/** The values of a constant (initializer) input, e.g. axes or shapes; throws for run-time tensors. */
export function constantValues(g: Graph, t: Tensor): number[] {
  const init = g.initializers.get(t.name);
  if (!init) throw new Error(`${t.name} must be a constant for its gradient rule`);
  return Array.from(init.data as ArrayLike<number | bigint>, (v) => Number(v));
}

export function zerosLike(g: Graph, t: Tensor): Tensor {
  const raw = t.dtype === 'float64' ? new Uint8Array(8) : new Uint8Array(4);
  return g.node('ConstantOfShape', [g.shapeOf(t)], [{ dtype: t.dtype, shape: t.shape }], {
    value: { kind: 'tensor', value: { name: 'value', dtype: t.dtype, dims: [1], raw } },
  })[0];
}

/** Swaps the last two axes. */
export function transposeLast2(g: Graph, t: Tensor): Tensor {
  const perm = [...Array(t.rank).keys()];
  [perm[t.rank - 2], perm[t.rank - 1]] = [perm[t.rank - 1], perm[t.rank - 2]];
  return g.transpose(t, perm);
}

/** A scalar constant of `t`'s dtype. */
export function scalar(g: Graph, like: Tensor, value: number): Tensor {
  return g.constant(value, like.dtype, []);
}

/** Number of elements of `a` divided by that of `b`, as a scalar of `a`'s dtype (static when possible). */
export function sizeRatio(g: Graph, a: Tensor, b: Tensor): Tensor {
  const numeric = (t: Tensor) => t.shape.every((d) => typeof d === 'number');
  if (numeric(a) && numeric(b)) {
    const n = (t: Tensor) => (t.shape as number[]).reduce((x, y) => x * y, 1);
    return scalar(g, a, n(a) / n(b));
  }
  const size = (t: Tensor) => g.cast(g.node('Size', [t], [{ dtype: 'int64', shape: [] }])[0], a.dtype);
  return g.div(size(a), size(b));
}
