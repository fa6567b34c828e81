/**
 * Reverse-mode autodiff over a built graph. Walks the nodes between the trainable tensors and
 * the loss in reverse, asks each op's rule for input gradients, and sums gradients where a tensor
 * feeds several nodes. Nothing is emitted for tensors that need no gradient (frozen weights):
 * that is where LoRA's speed comes from.
 */
import type { Graph, Node, Tensor } from '../onnx/builder';
import type { GradContext } from './context';
import { RULES } from './rules';

/**
 * Appends the backward pass of `loss` (a scalar, or any tensor with `seed` as its incoming
 * gradient) to `g` and returns the gradient of each tensor in `wrt`, keyed by tensor name.
 * `known`: gradient parts of tensors in `wrt` that the caller made itself, for paths to the loss
 * that do not go through `loss` (a closed form); each is summed with what the walk finds.
 */
export function gradients(
  g: Graph,
  loss: Tensor,
  wrt: readonly Tensor[],
  seed?: Tensor,
  known: ReadonlyArray<readonly [Tensor, Tensor]> = [],
): Map<string, Tensor> {
  const requires = new Set(wrt.map((t) => t.name));
  const forward: Node[] = [];
  for (const node of g.nodes) {
    if (node.inputs.some((t) => t && requires.has(t.name))) {
      forward.push(node);
      for (const o of node.outputs) requires.add(o.name);
    }
  }
  // Keep only nodes from which the loss is reachable.
  const reaches = new Set([loss.name]);
  const path: Node[] = [];
  for (let i = forward.length - 1; i >= 0; i--) {
    const node = forward[i];
    if (node.outputs.some((o) => reaches.has(o.name))) {
      path.push(node);
      for (const t of node.inputs) if (t && requires.has(t.name)) reaches.add(t.name);
    }
  }

  const pending = new Map<string, Tensor[]>();
  const collect = (name: string): Tensor | null => {
    const parts = pending.get(name);
    if (!parts || parts.length === 0) return null;
    let sum = parts[0];
    for (let k = 1; k < parts.length; k++) sum = g.add(sum, parts[k]);
    pending.set(name, [sum]);
    return sum;
  };
  pending.set(loss.name, [seed ?? g.constant(1, loss.dtype, loss.shape as number[])]);
  for (const [t, d] of known) pending.set(t.name, [...(pending.get(t.name) ?? []), d]);

  for (const node of path) {
    const dOut = node.outputs.map((o) => collect(o.name));
    if (dOut.every((d) => d === null)) continue;
    const rule = RULES[node.op];
    if (!rule) throw new Error(`no gradient rule for ${node.op} (node ${node.name})`);
    const ctx: GradContext = {
      g,
      node,
      I: (i) => {
        const t = node.inputs[i];
        if (!t) throw new Error(`${node.op} has no input ${i}`);
        return t;
      },
      O: (i) => node.outputs[i],
      GO: (i) => dOut[i] ?? null,
      needs: (i) => {
        const t = node.inputs[i];
        return !!t && reaches.has(t.name);
      },
    };
    const dIn = rule(ctx);
    node.inputs.forEach((t, i) => {
      const d = dIn[i];
      if (!t || !d || !ctx.needs(i)) return;
      const list = pending.get(t.name) ?? [];
      list.push(d);
      pending.set(t.name, list);
    });
  }

  const result = new Map<string, Tensor>();
  for (const w of wrt) {
    const d = collect(w.name);
    if (!d) throw new Error(`the loss does not depend on ${w.name}`);
    result.set(w.name, d);
  }
  return result;
}
