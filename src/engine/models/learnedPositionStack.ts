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
    p.embed('transformer.wte.weight', ids),
    g.gather(p.weight('transformer.wpe.weight'), positions),
  ); // [B, T, C]
  for (let i = 0; i < b.nLayer; i++) {
    const prefix = `transformer.h.${i}`;
    h = g.add(h, b.attention(norm(h, `${prefix}.ln_1`), `${prefix}.attn`, i));
    h = g.add(h, b.mlp(norm(h, `${prefix}.ln_2`), `${prefix}.mlp`));
  }
  return norm(h, 'transformer.ln_f');
}

export interface StackShapes {
  nLayer: number;
  vocabSize: number;
  nPositions: number;
  nEmbd: number;
  /** c_attn's output width: 3C for GPT-2, C + 2·D for multi-query GPTBigCode. */
  qkvWidth: number;
  /** The MLP's inner width (n_inner, default 4C). */
  inner: number;
  /** Conv1D stores weights [in, out] (GPT-2); nn.Linear [out, in] (GPTBigCode). */
  conv1d: boolean;
}

/** Every tensor the stack reads, by its save_pretrained name, with the shape the config implies. */
export function learnedPositionTensors(s: StackShapes): { name: string; shape: number[] }[] {
  const C = s.nEmbd;
  const out: { name: string; shape: number[] }[] = [
    { name: 'transformer.wte.weight', shape: [s.vocabSize, C] },
    { name: 'transformer.wpe.weight', shape: [s.nPositions, C] },
  ];
  const norm = (name: string) =>
    out.push({ name: `${name}.weight`, shape: [C] }, { name: `${name}.bias`, shape: [C] });
  const layer = (name: string, inp: number, width: number) =>
    out.push(
      { name: `${name}.weight`, shape: s.conv1d ? [inp, width] : [width, inp] },
      { name: `${name}.bias`, shape: [width] },
    );
  for (let i = 0; i < s.nLayer; i++) {
    const p = `transformer.h.${i}`;
    norm(`${p}.ln_1`);
    layer(`${p}.attn.c_attn`, C, s.qkvWidth);
    layer(`${p}.attn.c_proj`, C, C);
    norm(`${p}.ln_2`);
    layer(`${p}.mlp.c_fc`, C, s.inner);
    layer(`${p}.mlp.c_proj`, s.inner, C);
  }
  norm('transformer.ln_f');
  return out;
}
