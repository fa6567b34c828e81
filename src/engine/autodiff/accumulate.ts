/**
 * Gradient accumulation inside the graph: a micro-batch's gradient is added to the sum so far
 * (`into`, a graph input) by the node that computes it, so the caller can feed and fetch the same
 * buffer and hold one gradient set instead of two (500 MB at gpt2-small in full fine-tuning).
 *
 * The addition folds into the producer where it can: a weight's gradient Aᵀ·dY becomes Gemm's
 * C with β = 1, an embedding's scatter-add starts from `into` instead of zeros. Both kernels read
 * C (or the data) element by element before writing that element, so an output that shares the
 * input's memory is safe; onnxruntime never writes to a feed otherwise.
 */
import { attr, type Graph, type Node, type Tensor } from '../onnx/builder';

/**
 * Each gradient plus a new graph input `grad_in.<name>` (the sum so far), keyed as `grads`. A
 * tensor that is the gradient of two names gets a plain Add each: folding changes what it holds.
 */
export function accumulateGradients(g: Graph, grads: ReadonlyMap<string, Tensor>): Map<string, Tensor> {
  const uses = new Map<Tensor, number>();
  for (const d of grads.values()) uses.set(d, (uses.get(d) ?? 0) + 1);
  const sums = new Map<string, Tensor>();
  for (const [name, grad] of grads) {
    const into = g.input(`grad_in.${name}`, grad.dtype, grad.shape);
    sums.set(name, uses.get(grad) === 1 && fold(g, grad, into, 0) ? grad : g.add(grad, into));
  }
  return sums;
}

/** Folds `+ into` into the node that makes `t`, which `allowed` nodes read (the sum's own Add). */
function fold(g: Graph, t: Tensor, into: Tensor, allowed: number): boolean {
  const sameShape = t.rank === into.rank && t.shape.every((d, i) => d === into.shape[i]);
  if (!sameShape || readers(g, t).length !== allowed || g.outputs.includes(t)) return false;
  const at = g.nodes.findIndex((n) => n.outputs.includes(t));
  if (at < 0) return false;
  const node = g.nodes[at];
  const replace = (inputs: (Tensor | null)[], attrs = node.attrs) => {
    g.nodes[at] = { ...node, inputs, attrs };
    return true;
  };
  switch (node.op) {
    case 'Gemm':
      if (node.inputs.length > 2 && node.inputs[2]) return false;
      return replace([node.inputs[0], node.inputs[1], into], { ...node.attrs, beta: attr.float(1) });
    case 'ScatterND': {
      const zeros = node.inputs[0]!;
      const maker = g.nodes.findIndex((n) => n.outputs.includes(zeros));
      if (maker < 0 || g.nodes[maker].op !== 'ConstantOfShape' || readers(g, zeros).length !== 1)
        return false;
      replace([into, ...node.inputs.slice(1)]);
      // The zeros are no longer made, nor the shape they were made to, when nothing else reads it.
      const shape = g.nodes[maker].inputs[0];
      g.nodes.splice(maker, 1);
      if (shape && readers(g, shape).length === 0 && !g.outputs.includes(shape)) {
        const shaper = g.nodes.findIndex((n) => n.op === 'Shape' && n.outputs.includes(shape));
        if (shaper >= 0) g.nodes.splice(shaper, 1);
      }
      return true;
    }
    case 'Add': // x + y, a part made for it alone (and not x + x)
      return node.inputs[0] !== node.inputs[1] && node.inputs.some((part) => part && fold(g, part, into, 1));
    default:
      return false;
  }
}

function readers(g: Graph, t: Tensor): Node[] {
  return g.nodes.filter((n) => n.inputs.some((i) => i?.name === t.name));
}
