/**
 * GPT-2 family (gpt2, distilgpt2, any size): learned positions, pre-LayerNorm blocks,
 * Conv1D weights stored [in, out], gelu_new, LM head tied to the token embedding.
 * Shapes: B batch, T time, C = n_embd, H heads, D = C/H.
 */
import type { Graph, Tensor } from '../onnx/builder';
import { UserError } from '../errors';
import { blockCausalAttention, sequenceMask, type CausalMask } from './attention';
import { geluTanh, stridePad, type KvCache, type KvLayout } from './common';
import { configField, type RawConfig } from './config';
import { learnedPositionStack, learnedPositionTensors } from './learnedPositionStack';
import type { ModelParams } from './params';

export interface Gpt2Config {
  family: 'gpt2';
  nLayer: number;
  nHead: number;
  nEmbd: number;
  nPositions: number;
  vocabSize: number;
  eps: number;
  /** The MLP's inner width: n_inner, or 4·n_embd when the config leaves it null. */
  nInner: number;
}

export const GPT2_LORA_TARGETS = ['c_attn', 'c_proj', 'c_fc'];

export function parseGpt2Config(raw: RawConfig, file: string): Gpt2Config {
  const f = configField(raw, file);
  const act = f.str('activation_function', 'gelu_new');
  if (act !== 'gelu_new')
    throw new UserError(`${file}: activation_function "${act}" is not supported (gelu_new only)`);
  const cfg: Gpt2Config = {
    family: 'gpt2',
    nLayer: f.int('n_layer'),
    nHead: f.int('n_head'),
    nEmbd: f.int('n_embd'),
    nPositions: f.int('n_positions', raw.n_ctx as number | undefined),
    vocabSize: f.int('vocab_size'),
    eps: f.num('layer_norm_epsilon', 1e-5),
    nInner: f.int('n_inner', 4 * f.int('n_embd')),
  };
  if (cfg.nEmbd % cfg.nHead !== 0)
    throw new UserError(`${file}: n_embd ${cfg.nEmbd} is not divisible by n_head ${cfg.nHead}`);
  return cfg;
}

function attention(
  g: Graph,
  cfg: Gpt2Config,
  p: ModelParams,
  x: Tensor,
  mask: CausalMask,
  prefix: string,
  cached?: { cache: KvCache; layer: number },
): Tensor {
  const { nHead: H, nEmbd: C } = cfg;
  const D = C / H;
  const qkv = p.conv1d(x, `${prefix}.c_attn`); // [B, T, 3C]
  const split = g.split(qkv, [C, C, C], -1).map((t) => g.reshape(t, [0, 0, H, D])); // [B, T, H, D] each
  // A training graph: multi-head attention is the grouped case with one query head per key head.
  if ('blocks' in mask)
    return p.conv1d(blockCausalAttention(g, split[0], split[1], split[2], mask.blocks), `${prefix}.c_proj`);
  const [q, kNew, vNew] = split.map((t) => g.transpose(t, [0, 2, 1, 3])); // [B, H, T, D]
  // With a cache, attend over the past and the new tokens: S = P + T keys (S = T without).
  const { k, v } = cached ? cached.cache.extend(cached.layer, kNew, vNew) : { k: kNew, v: vNew }; // [B, H, S, D]
  const kT = g.transpose(k, [0, 1, 3, 2]); // [B, H, D, S]
  const scores = g.add(g.mul(g.matmul(q, kT), g.constant(1 / Math.sqrt(D), x.dtype, [])), mask.bias); // [B, H, T, S]
  const y = g.matmul(g.softmax(scores, -1), v); // [B, H, T, D]
  const merged = g.reshape(g.transpose(y, [0, 2, 1, 3]), [0, 0, C]); // [B, T, C]
  return p.conv1d(merged, `${prefix}.c_proj`);
}

function mlp(g: Graph, p: ModelParams, x: Tensor, prefix: string): Tensor {
  // Training graphs widen the inner activation when its rows would be a multiple of 4 KiB (the
  // padded columns are gelu(0) = 0 and meet zero weight rows): see stridePad. So does a full
  // fine-tune's evaluation graph, which reads the same (padded) trainables.
  const inner = p.shapeOf(`${prefix}.c_fc.weight`)[1]; // [in, out]
  const pad = p.training || p.mode === 'full' ? stridePad(inner) : 0;
  const fc = p.conv1d(x, `${prefix}.c_fc`, { out: pad });
  const act = geluTanh(g, fc, { fused: p.training }); // [B, T, inner + pad]
  return p.conv1d(act, `${prefix}.c_proj`, { in: pad });
}

/**
 * Final hidden states [B, T, C] for token ids [B, T] (int64). With `cache` (an inference graph),
 * positions come from position_ids [B, T] and attention reads and extends the KV cache.
 */
export function gpt2Hidden(g: Graph, cfg: Gpt2Config, p: ModelParams, ids: Tensor, cache?: KvCache): Tensor {
  const dtype = p.dtype === 'float64' ? 'float64' : 'float32';
  const { positions, mask } = cache
    ? { positions: cache.positions, mask: { bias: cache.bias } } // [B, T], [B, 1, T, S]
    : sequenceMask(g, ids, 1, { training: p.training, dtype }); // [T]
  return learnedPositionStack(g, p, ids, positions, {
    nLayer: cfg.nLayer,
    eps: cfg.eps,
    attention: (x, prefix, layer) => attention(g, cfg, p, x, mask, prefix, cache && { cache, layer }),
    mlp: (x, prefix) => mlp(g, p, x, prefix),
  });
}

/** GPT-2's KV cache: all H heads keep keys and values. */
export function gpt2KvLayout(cfg: Gpt2Config): KvLayout {
  return { nLayer: cfg.nLayer, kvHeads: cfg.nHead, headDim: cfg.nEmbd / cfg.nHead, fused: false };
}

/** Every tensor GPT-2 reads (Conv1D [in, out] weights, c_attn 3C wide). */
export function gpt2Tensors(cfg: Gpt2Config) {
  const { nLayer, vocabSize, nPositions, nEmbd, nInner } = cfg;
  return learnedPositionTensors({
    nLayer,
    vocabSize,
    nPositions,
    nEmbd,
    qkvWidth: 3 * nEmbd,
    inner: nInner,
    conv1d: true,
  });
}

/** The LM head's weight [V, C]: tied to the token embedding. */
export const GPT2_HEAD_NAME = 'transformer.wte.weight';
