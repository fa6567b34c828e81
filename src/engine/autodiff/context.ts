/** What a gradient rule sees of its forward node (onnxruntime's gradient-builder vocabulary). */
import type { Graph, Node, Tensor } from '../onnx/builder';

export interface GradContext {
  readonly g: Graph;
  readonly node: Node;
  /** Forward input i. */
  I(i: number): Tensor;
  /** Forward output i. */
  O(i: number): Tensor;
  /** Gradient arriving at output i, or null when nothing downstream depends on it. */
  GO(i: number): Tensor | null;
  /** Whether input i needs a gradient; rules skip the work otherwise. */
  needs(i: number): boolean;
}

/** Returns the gradient of each input (undefined where not needed or not differentiable). */
export type GradRule = (c: GradContext) => (Tensor | null | undefined)[];
