/**
 * The GPT-2-shaped stack that GPT-2 and GPTBigCode share: token + learned position embeddings,
 * pre-LayerNorm blocks (attention then MLP, each added to the residual), a final LayerNorm.
 * The families supply their own attention and MLP.
 */
import type { Graph, Tensor } from '../onnx/builder';
import type { ModelParams } from './params';

export interface StackBlocks {
  nLayer: number;
  eps: number;
  /** Attention of block `layer` on its normalised input [B, T, C]. */
  attention(x: Tensor, prefix: string, layer: number): Tensor;
  /** MLP on its normalised input [B, T, C]. */
  mlp(x: Tensor, prefix: string): Tensor;
}

/** Final hidden states [B, T, C] for ids [B, T] at `positions` ([T], or [B, T] with a KV cache). */
export function learnedPositionStack(
  g: Graph,
  p: ModelParams,
  ids: Tensor,
  positions: Tensor,
  b: StackBlocks,
): Tensor {
  const norm = (x: Tensor, name: string) =>
    g.layerNorm(x, p.weight(`${name}.weight`), p.weight(`${name}.bias`), b.eps);
  let h = g.add(
    g.gather(p.weight('transformer.wte.weight'), ids),
    g.gather(p.weight('transformer.wpe.weight'), positions),
  ); // [B, T, C]
  for (let i = 0; i < b.nLayer; i++) {
    const prefix = `transformer.h.${i}`;
    h = g.add(h, b.attention(norm(h, `${prefix}.ln_1`), `${prefix}.attn`, i));
    h = g.add(h, b.mlp(norm(h, `${prefix}.ln_2`), `${prefix}.mlp`));
  }
  return norm(h, 'transformer.ln_f');
}
