/**
 * x·W through a frozen weight held in int8 (LoRA on an int8 base): onnxruntime's com.microsoft
 * DynamicQuantizeMatMul quantizes x per call to uint8 (one scale and zero point for the whole
 * tensor) and multiplies it with W's int8 copy (one scale per output column, symmetric) in its
 * integer GEMM. The input gradient dX = dY·Wᵀ runs the same kernel through Wᵀ's own int8 copy,
 * quantized from the float32 weight per column of Wᵀ (per input feature of W): re-quantizing the
 * forward copy would add a second rounding. W itself never gets a gradient.
 *
 * The LM head is the exception (train/lmGraph.ts): its forward runs here, its input gradient in
 * float32, because (softmax − onehot) does not survive uint8. Measured on the starter model
 * (bench/quality/int8.ts, 20 steps): with the head's input gradient in int8 the run kept 0.6% of
 * the float32 run's held-out gain, even with the label's −1 split off and each row of
 * probabilities scaled to its largest (a 50k vocabulary's small probabilities round to zero).
 */
import type { Graph, Tensor } from '../onnx/builder';
import { quantizeColumns } from '../onnx/int8';
import type { GradRule } from './context';

/** A frozen weight W [K, N] as y = x·W reads it: K inputs, N outputs, element (k, n). */
export interface FrozenMatrix {
  K: number;
  N: number;
  at(k: number, n: number): number;
}

interface Int8Copy {
  q: Tensor;
  scales: Tensor;
}

/**
 * Per graph: the int8 forward copy's name → Wᵀ's int8 copy, built when first asked for (by the
 * backward pass), so a scoring graph never quantizes or stores Wᵀ.
 */
const transposedCopies = new WeakMap<Graph, Map<string, () => Int8Copy>>();

function transposedCopy(g: Graph, q: Tensor): Int8Copy | undefined {
  return transposedCopies.get(g)?.get(q.name)?.();
}

/** The int8 copy [K, N] of `w` with per-column scales [N], as initializers named after `name`. */
function int8Copy(g: Graph, name: string, w: FrozenMatrix): Int8Copy {
  const { q, scales } = quantizeColumns(w.N, w.K, (n, k) => w.at(k, n));
  return {
    q: g.initializer(`${name}.int8`, q, [w.K, w.N], 'int8'),
    scales: g.initializer(`${name}.int8_scales`, scales, [w.N]),
  };
}

/** DynamicQuantizeMatMul(x, q, scales) (+ bias [N], added in the kernel): [.., K] → [.., N]. */
function dynamicQuantizeMatMul(g: Graph, x: Tensor, w: Int8Copy, bias: Tensor | null): Tensor {
  const N = w.q.shape[1];
  // Inputs: A, B, b_scale, b_zero_point (absent: symmetric), bias.
  const inputs = bias ? [x, w.q, w.scales, null, bias] : [x, w.q, w.scales];
  return g.node(
    'DynamicQuantizeMatMul',
    inputs,
    [{ dtype: x.dtype, shape: [...x.shape.slice(0, -1), N] }],
    {},
    'com.microsoft',
  )[0];
}

/** x [.., K] · W [K, N] (+ bias [N]) with W frozen in int8; `name` names its initializers. */
export function int8Product(
  g: Graph,
  x: Tensor,
  w: FrozenMatrix,
  name: string,
  bias: Tensor | null = null,
): Tensor {
  if (x.dtype !== 'float32') throw new Error(`int8 products take float32 activations (${name}: ${x.dtype})`);
  const forward = int8Copy(g, name, w);
  let copies = transposedCopies.get(g);
  if (!copies) transposedCopies.set(g, (copies = new Map()));
  let built: Int8Copy | undefined;
  copies.set(
    forward.q.name,
    () => (built ??= int8Copy(g, `${name}ᵀ`, { K: w.N, N: w.K, at: (n, k) => w.at(k, n) })),
  );
  return dynamicQuantizeMatMul(g, x, forward, bias);
}

// dA = dY · Wᵀ through Wᵀ's int8 copy; W, its scales and the bias are frozen.
export const int8ProductRule: GradRule = (c) => {
  if (c.needs(1) || c.needs(2) || c.needs(4))
    throw new Error(`${c.node.name}: int8 weights are frozen and have no gradient`);
  const dY = c.GO(0);
  if (!c.needs(0) || !dY) return [];
  const transposed = transposedCopy(c.g, c.I(1));
  if (!transposed)
    throw new Error(`${c.node.name}: no int8 copy of ${c.I(1).name}ᵀ (build int8 products with int8Product)`);
  return [dynamicQuantizeMatMul(c.g, dY, transposed, null)];
};
