/**
 * GPTBigCode family (gpt_bigcode: tiny_starcoder_py, starcoderbase-1b, …): GPT-2's block with
 * multi-query attention (one shared key/value head) and nn.Linear weights ([out, in], not Conv1D).
 * c_attn's output is [q (C) | k (D) | v (D)]; learned positions; LM head tied to the embedding.
 * Shapes: B batch, T time, C = n_embd, H heads, D = C/H, F = n_inner (default 4C).
 */
import type { Graph, Tensor } from '../onnx/builder';
import { UserError } from '../errors';
import { causalAttention, groupedCacheBias, sequenceMask, type CausalMask } from './attention';
import { geluTanh, type KvCache } from './common';
import { configField, type RawConfig } from './config';
import { learnedPositionStack, learnedPositionTensors } from './learnedPositionStack';
import type { ModelParams } from './params';

export interface GptBigCodeConfig {
  family: 'gpt_bigcode';
  nLayer: number;
  nHead: number;
  nEmbd: number;
  nInner: number;
  nPositions: number;
  vocabSize: number;
  eps: number;
  tieEmbeddings: boolean;
}

export const GPT_BIGCODE_LORA_TARGETS = ['c_attn', 'c_proj', 'c_fc'];

/** The tanh approximation of GELU, under the names transformers gives it. */
const GELU_TANH = ['gelu_pytorch_tanh', 'gelu_new', 'gelu_fast'];

export function parseGptBigCodeConfig(raw: RawConfig, file: string): GptBigCodeConfig {
  const f = configField(raw, file);
  const act = f.str('activation_function', 'gelu_pytorch_tanh');
  if (!GELU_TANH.includes(act))
    throw new UserError(
      `${file}: activation_function "${act}" is not supported (supported: ${GELU_TANH.join(', ')})`,
    );
  if (!f.bool('multi_query', true))
    throw new UserError(
      `${file}: multi_query false is not supported (GPTBigCode with multi-query attention only)`,
    );
  if (!f.bool('scale_attn_weights', true))
    throw new UserError(`${file}: scale_attn_weights false is not supported`);
  const nEmbd = f.int('n_embd');
  const nHead = f.int('n_head');
  if (nEmbd % nHead !== 0)
    throw new UserError(`${file}: n_embd ${nEmbd} is not divisible by n_head ${nHead}`);
  return {
    family: 'gpt_bigcode',
    nLayer: f.int('n_layer'),
    nHead,
    nEmbd,
    nInner: f.int('n_inner', 4 * nEmbd),
    nPositions: f.int('n_positions'),
    vocabSize: f.int('vocab_size'),
    eps: f.num('layer_norm_epsilon', 1e-5),
    tieEmbeddings: f.bool('tie_word_embeddings', true),
  };
}

function attention(
  g: Graph,
  cfg: GptBigCodeConfig,
  p: ModelParams,
  x: Tensor,
  mask: CausalMask,
  prefix: string,
  cached?: { cache: KvCache; layer: number },
) {
  const { nHead: H, nEmbd: C } = cfg;
  const D = C / H;
  const qkv = p.linear(x, `${prefix}.c_attn`, { bias: true }); // [B, T, C + 2D]
  const [q, k, v] = g.split(qkv, [C, D, D], -1);
  const y = causalAttention(
    g,
    g.reshape(q, [0, 0, H, D]), // [B, T, H, D]
    g.reshape(k, [0, 0, 1, D]), // [B, T, 1, D]
    g.reshape(v, [0, 0, 1, D]), // [B, T, 1, D]
    mask,
    cached,
  ); // [B, T, C]
  return p.linear(y, `${prefix}.c_proj`, { bias: true });
}

function mlp(g: Graph, p: ModelParams, x: Tensor, prefix: string): Tensor {
  const inner = geluTanh(g, p.linear(x, `${prefix}.c_fc`, { bias: true })); // [B, T, F]
  return p.linear(inner, `${prefix}.c_proj`, { bias: true }); // [B, T, C]
}

/**
 * Final hidden states [B, T, C] for token ids [B, T] (int64). With `cache` (an inference graph),
 * positions come from position_ids [B, T] and attention reads and extends the (fused) KV cache.
 */
export function gptBigCodeHidden(
  g: Graph,
  cfg: GptBigCodeConfig,
  p: ModelParams,
  ids: Tensor,
  cache?: KvCache,
): Tensor {
  const dtype = p.dtype === 'float64' ? 'float64' : 'float32';
  const { positions, mask } = cache
    ? { positions: cache.positions, mask: { bias: groupedCacheBias(g, cache.bias, cfg.nHead) } } // [B, T], [B, 1, H·T, S]
    : sequenceMask(g, ids, cfg.nHead, { training: p.training, dtype }); // [T]
  return learnedPositionStack(g, p, ids, positions, {
    nLayer: cfg.nLayer,
    eps: cfg.eps,
    attention: (x, prefix, layer) => attention(g, cfg, p, x, mask, prefix, cache && { cache, layer }),
    mlp: (x, prefix) => mlp(g, p, x, prefix),
  });
}

/** The LM head's weight [V, C]: tied to the token embedding unless the config unties it. */
export function gptBigCodeHeadName(cfg: GptBigCodeConfig): string {
  return cfg.tieEmbeddings ? 'transformer.wte.weight' : 'lm_head.weight';
}

/** Every tensor GPTBigCode reads (nn.Linear [out, in]; c_attn C + 2·D wide), lm_head when untied. */
export function gptBigCodeTensors(cfg: GptBigCodeConfig) {
  const { nLayer, vocabSize, nPositions, nEmbd, nHead, nInner } = cfg;
  const D = nEmbd / nHead;
  const stack = learnedPositionTensors({
    nLayer,
    vocabSize,
    nPositions,
    nEmbd,
    qkvWidth: nEmbd + 2 * D,
    inner: nInner,
    conv1d: false,
  });
  return cfg.tieEmbeddings ? stack : [...stack, { name: 'lm_head.weight', shape: [vocabSize, nEmbd] }];
}
