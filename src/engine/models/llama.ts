/**
 * Llama family (llama: SmolLM2, TinyLlama, Llama-3.2; qwen2: Qwen2.5 / Qwen2.5-Coder, which adds
 * q/k/v biases): RMSNorm pre-norm blocks, rotary position embeddings, SwiGLU MLP, grouped-query
 * attention, nn.Linear weights ([out, in]), LM head tied to the embedding or separate.
 * Shapes: B batch, T time, C = hidden_size, H query heads, KV key/value heads, D = head_dim,
 * F = intermediate_size, P = max_position_embeddings.
 */
import { attr, type Graph, type Tensor } from '../onnx/builder';
import { UserError } from '../errors';
import { causalAttention, groupedAttentionOnHeads, groupedCacheBias, sequenceMask, type CausalMask } from './attention';
import { silu, type KvCache } from './common';
import { configField, type RawConfig } from './config';
import type { WeightSpec } from './init';
import type { ModelParams } from './params';

/** rope_scaling, by HF's rope_type. */
export type RopeScaling =
  | { type: 'default' }
  | { type: 'linear'; factor: number }
  | {
      type: 'llama3';
      factor: number;
      lowFreqFactor: number;
      highFreqFactor: number;
      originalMaxPositions: number;
    };

export interface LlamaConfig {
  family: 'llama' | 'qwen2';
  nLayer: number;
  nHead: number;
  nKvHead: number;
  headDim: number;
  hidden: number;
  intermediate: number;
  vocabSize: number;
  maxPositions: number;
  eps: number;
  ropeTheta: number;
  rope: RopeScaling;
  tieEmbeddings: boolean;
  /** Biases on q_proj, k_proj, v_proj (Qwen2 always; Llama when attention_bias). */
  qkvBias: boolean;
  /** Bias on o_proj (Llama's attention_bias; never in Qwen2). */
  oBias: boolean;
  mlpBias: boolean;
}

export const LLAMA_LORA_TARGETS = [
  'q_proj',
  'k_proj',
  'v_proj',
  'o_proj',
  'gate_proj',
  'up_proj',
  'down_proj',
];

const ROPE_TYPES = ['default', 'linear', 'llama3', 'dynamic'];

function parseRopeScaling(raw: RawConfig, file: string): RopeScaling {
  const rs = raw.rope_scaling;
  if (rs === undefined || rs === null) return { type: 'default' };
  if (typeof rs !== 'object' || Array.isArray(rs))
    throw new UserError(`${file}: "rope_scaling" must be an object or null`);
  const r = rs as RawConfig;
  const type = r.rope_type ?? r.type;
  const f = configField(r, `${file} (rope_scaling)`);
  switch (type) {
    // Dynamic NTK scaling only changes the frequencies beyond max_position_embeddings, which is
    // also our context limit: within it, it is the default.
    case 'default':
    case 'dynamic':
      return { type: 'default' };
    case 'linear':
      return { type: 'linear', factor: f.num('factor') };
    case 'llama3':
      return {
        type: 'llama3',
        factor: f.num('factor'),
        lowFreqFactor: f.num('low_freq_factor'),
        highFreqFactor: f.num('high_freq_factor'),
        originalMaxPositions: f.int('original_max_position_embeddings'),
      };
    default:
      throw new UserError(
        `${file}: rope_scaling type ${JSON.stringify(type)} is not supported (supported: ${ROPE_TYPES.join(', ')})`,
      );
  }
}

export function parseLlamaConfig(raw: RawConfig, file: string): LlamaConfig {
  const f = configField(raw, file);
  const family = raw.model_type === 'qwen2' ? 'qwen2' : 'llama';
  const act = f.str('hidden_act', 'silu');
  if (act !== 'silu') throw new UserError(`${file}: hidden_act "${act}" is not supported (silu only)`);
  const hidden = f.int('hidden_size');
  const nHead = f.int('num_attention_heads');
  const nKvHead = f.int('num_key_value_heads', nHead);
  if (hidden % nHead !== 0 && (raw.head_dim === undefined || raw.head_dim === null))
    throw new UserError(`${file}: hidden_size ${hidden} is not divisible by num_attention_heads ${nHead}`);
  const headDim = f.int('head_dim', hidden / nHead);
  if (nHead % nKvHead !== 0)
    throw new UserError(
      `${file}: num_attention_heads ${nHead} is not a multiple of num_key_value_heads ${nKvHead}`,
    );
  if (headDim % 2 !== 0)
    throw new UserError(`${file}: head_dim ${headDim} must be even for rotary embeddings`);
  const attentionBias = f.bool('attention_bias', false);
  let maxPositions = f.int('max_position_embeddings');
  // Qwen2's sliding window (when enabled) caps how far back a token may look: keep within it.
  if (family === 'qwen2' && raw.use_sliding_window === true)
    maxPositions = Math.min(maxPositions, f.int('sliding_window'));
  return {
    family,
    nLayer: f.int('num_hidden_layers'),
    nHead,
    nKvHead,
    headDim,
    hidden,
    intermediate: f.int('intermediate_size'),
    vocabSize: f.int('vocab_size'),
    maxPositions,
    eps: f.num('rms_norm_eps', 1e-6),
    ropeTheta: f.num('rope_theta', 10000),
    rope: parseRopeScaling(raw, file),
    tieEmbeddings: f.bool('tie_word_embeddings', false),
    qkvBias: family === 'qwen2' ? true : attentionBias,
    oBias: family === 'qwen2' ? false : attentionBias,
    mlpBias: f.bool('mlp_bias', false),
  };
}

/**
 * The rotary inverse frequencies [D/2] as HF computes them (float32 arithmetic):
 * 1 / θ^(2i/D), then rescaled by rope_scaling (`_compute_linear_scaling_rope_parameters`,
 * `_compute_llama3_parameters` in transformers' modeling_rope_utils.py).
 */
export function ropeInvFreq(cfg: Pick<LlamaConfig, 'headDim' | 'ropeTheta' | 'rope'>): Float64Array {
  const half = cfg.headDim / 2;
  const f32 = Math.fround;
  const base = Float64Array.from({ length: half }, (_, i) =>
    f32(1 / f32(Math.pow(cfg.ropeTheta, f32((2 * i) / cfg.headDim)))),
  );
  const rope = cfg.rope;
  if (rope.type === 'default') return base;
  if (rope.type === 'linear') return base.map((x) => f32(x / rope.factor));
  // llama3: keep high frequencies, divide low ones by `factor`, interpolate in between.
  const { factor, lowFreqFactor, highFreqFactor, originalMaxPositions: oldLen } = rope;
  const lowFreqWavelen = oldLen / lowFreqFactor;
  const highFreqWavelen = oldLen / highFreqFactor;
  return base.map((inv) => {
    const wavelen = (2 * Math.PI) / inv;
    if (wavelen < highFreqWavelen) return inv;
    if (wavelen > lowFreqWavelen) return f32(inv / factor);
    const smooth = (oldLen / wavelen - lowFreqFactor) / (highFreqFactor - lowFreqFactor);
    return f32(((1 - smooth) * inv) / factor + smooth * inv);
  });
}

/** cos and sin of position·inv_freq, tables [P, D/2] (the angle rounded to float32, as in HF). */
export function ropeTables(cfg: LlamaConfig): { cos: Float64Array; sin: Float64Array } {
  const inv = ropeInvFreq(cfg);
  const half = inv.length;
  const cos = new Float64Array(cfg.maxPositions * half);
  const sin = new Float64Array(cfg.maxPositions * half);
  for (let p = 0; p < cfg.maxPositions; p++) {
    for (let i = 0; i < half; i++) {
      const angle = Math.fround(p * inv[i]);
      cos[p * half + i] = Math.cos(angle);
      sin[p * half + i] = Math.sin(angle);
    }
  }
  return { cos, sin };
}

/**
 * RMSNorm: x·rsqrt(mean(x²) + ε)·w over the last axis: decomposed, so existing rules differentiate
 * it, or `fused` as onnxruntime's SimplifiedLayerNormalization (one node instead of seven).
 */
function rmsNorm(g: Graph, x: Tensor, w: Tensor, eps: number, fused = false): Tensor {
  if (fused)
    return g.node('SimplifiedLayerNormalization', [x, w], [{ dtype: x.dtype, shape: x.shape }], {
      axis: attr.int(-1),
      epsilon: attr.float(eps),
    })[0];
  const ms = g.reduceMean(g.mul(x, x), [-1], true); // [B, T, 1]
  const inv = g.reciprocal(g.sqrt(g.add(ms, g.constant(eps, x.dtype, []))));
  return g.mul(g.mul(x, inv), w);
}

/**
 * How a graph computes RMSNorm: `plain` decomposed (any runtime, any precision), `fused` as
 * SimplifiedLayerNormalization (onnxruntime; float32 training graphs differentiate it by its own
 * rule), `skip` also folding the residual Add before it into SkipSimplifiedLayerNormalization (the
 * Decoder's graph: no backward pass).
 */
type NormKind = 'plain' | 'fused' | 'skip';

/**
 * The residual step between sublayers: h + delta, and its RMSNorm for the next sublayer. `skip`:
 * onnxruntime's SkipSimplifiedLayerNormalization, one node for the Add and the norm (its fourth
 * output is the sum).
 */
function addAndNorm(
  g: Graph,
  h: Tensor,
  delta: Tensor,
  w: Tensor,
  eps: number,
  kind: NormKind,
): { sum: Tensor; normed: Tensor } {
  if (kind !== 'skip') {
    const sum = g.add(h, delta);
    return { sum, normed: rmsNorm(g, sum, w, eps, kind === 'fused') };
  }
  const absent = { dtype: h.dtype, shape: [], name: '' };
  const [normed, , , sum] = g.node(
    'SkipSimplifiedLayerNormalization',
    [delta, h, w],
    [{ dtype: h.dtype, shape: h.shape }, absent, absent, { dtype: h.dtype, shape: h.shape }],
    { epsilon: attr.float(eps) },
    'com.microsoft',
  );
  return { sum, normed };
}

/** HF's q·cos + rotate_half(q)·sin on x [B, T, heads, D] with cos, sin [T, 1, D/2]. */
function rotary(g: Graph, x: Tensor, cos: Tensor, sin: Tensor): Tensor {
  const half = (x.shape[3] as number) / 2;
  const [x1, x2] = g.split(x, [half, half], -1); // [B, T, heads, D/2] each
  return g.concat([g.sub(g.mul(x1, cos), g.mul(x2, sin)), g.add(g.mul(x2, cos), g.mul(x1, sin))], -1);
}

interface Shared {
  /** Splits x [B, T, heads·D] into heads [B, T, heads, D] rotated by their positions' angles. */
  rope: (x: Tensor, heads: number) => Tensor;
  /** With fused nodes: rotates head-major x [B, heads, T, D] (onnxruntime's RotaryEmbedding takes it). */
  ropeHeads?: (x: Tensor, heads: number) => Tensor;
  /** The causal mask [n·T, T] ([B, 1, n·T, S] with a cache), or a training graph's two blocks. */
  mask: CausalMask;
  cache?: KvCache;
}

function attention(
  g: Graph,
  cfg: LlamaConfig,
  p: ModelParams,
  x: Tensor,
  s: Shared,
  prefix: string,
  layer: number,
): Tensor {
  const { nHead: H, nKvHead: KV, headDim: D } = cfg;
  const qkv = p.linears(
    x,
    ['q_proj', 'k_proj', 'v_proj'].map((m) => `${prefix}.${m}`),
    { bias: cfg.qkvBias, fused: s.cache?.fusedOps, joined: true },
  ); // [B, T, heads·D] each, or the three side by side
  let y: Tensor; // [B, T, H·D]
  if (qkv.length === 1 && s.cache && s.ropeHeads) {
    // One Transpose makes every head [B, H + 2KV, T, D]; the cache's layout needs no other.
    const heads = g.transpose(g.reshape(qkv[0], [0, 0, H + 2 * KV, D]), [0, 2, 1, 3]);
    const [q, k, v] = g.split(heads, [H, KV, KV], 1);
    const cached = { cache: s.cache, layer };
    if (!('bias' in s.mask)) throw new Error('a KV cache takes one causal mask');
    y = groupedAttentionOnHeads(g, s.ropeHeads(q, H), s.ropeHeads(k, KV), v, s.mask.bias, cached);
  } else {
    const [qx, kx, vx] = qkv;
    const q = s.rope(qx, H); // [B, T, H, D]
    const k = s.rope(kx, KV); // [B, T, KV, D]
    const v = g.reshape(vx, [0, 0, KV, D]); // [B, T, KV, D]
    y = causalAttention(g, q, k, v, s.mask, s.cache && { cache: s.cache, layer });
  }
  return p.linear(y, `${prefix}.o_proj`, { bias: cfg.oBias }); // [B, T, C]
}

/**
 * SwiGLU: down(silu(gate(x)) · up(x)), silu(z) = z·σ(z). `fused`: an inference graph's joined
 * gate and up products; `trainingFused`: a float32 training graph's one-node SiLU.
 */
function mlp(
  g: Graph,
  cfg: LlamaConfig,
  p: ModelParams,
  x: Tensor,
  prefix: string,
  o: { fused?: boolean; trainingFused?: boolean },
): Tensor {
  const bias = { bias: cfg.mlpBias };
  const [gate, up] = p.linears(x, [`${prefix}.gate_proj`, `${prefix}.up_proj`], { ...bias, fused: o.fused }); // [B, T, F] each
  return p.linear(g.mul(silu(g, gate, { fused: o.trainingFused }), up), `${prefix}.down_proj`, bias); // [B, T, C]
}

/**
 * Final hidden states [B, T, C] for token ids [B, T] (int64). With `cache` (an inference graph),
 * rotary angles come from position_ids [B, T] and attention reads and extends the KV cache.
 */
export function llamaHidden(
  g: Graph,
  cfg: LlamaConfig,
  p: ModelParams,
  ids: Tensor,
  cache?: KvCache,
): Tensor {
  const dtype = p.dtype === 'float64' ? 'float64' : 'float32';
  const n = cfg.nHead / cfg.nKvHead;
  const sequence = cache ? undefined : sequenceMask(g, ids, n, { training: p.training, dtype });
  const positions = cache ? cache.positions : sequence!.positions; // [B, T] or [T]
  const tables = ropeTables(cfg);
  const half = cfg.headDim / 2;
  const table = (name: string, values: Float64Array) =>
    g.initializer(name, dtype === 'float64' ? values : Float32Array.from(values), [cfg.maxPositions, half]); // [P, D/2]
  const [cosTable, sinTable] = [table('rope.cos', tables.cos), table('rope.sin', tables.sin)];
  let rope: Shared['rope'];
  let ropeHeads: Shared['ropeHeads'];
  // A float32 training graph runs only in onnxruntime-node too: its norms and rotary are the fused
  // nodes, whose rules (autodiff/rules.ts) recompute with the same ops. Positions count from 0,
  // which RotaryEmbedding takes as a one-element offset.
  const trainingFused = !cache && p.training && dtype === 'float32';
  if (cache?.fusedOps || trainingFused) {
    // onnxruntime's RotaryEmbedding (rotate-half, as HF): one node per q and k instead of eight.
    const offsets = cache ? positions : g.constant([0], 'int64', [1]);
    const fusedRope = (x: Tensor, heads: number) => {
      const attrs = { interleaved: attr.int(0), num_heads: attr.int(heads) };
      const out = [{ dtype: x.dtype, shape: x.shape }];
      return g.node('RotaryEmbedding', [x, offsets, cosTable, sinTable], out, attrs, 'com.microsoft')[0];
    };
    rope = (x, heads) => g.reshape(fusedRope(x, heads), [0, 0, heads, cfg.headDim]);
    ropeHeads = fusedRope;
  } else {
    const rows = (t: Tensor) => g.unsqueeze(g.gather(t, positions), [positions.rank]); // [T, 1, D/2] or [B, T, 1, D/2]
    const [cos, sin] = [rows(cosTable), rows(sinTable)];
    rope = (x, heads) => rotary(g, g.reshape(x, [0, 0, heads, cfg.headDim]), cos, sin);
  }
  // The cache's mask [B, 1, n·T, S] made here, after the rotary tables: an exported graph's bytes stay put.
  const mask = cache ? { bias: groupedCacheBias(g, cache.bias, n) } : sequence!.mask;
  const shared: Shared = { rope, ropeHeads, mask, cache };
  const fused = cache?.fusedOps;
  const normKind: NormKind = fused ? 'skip' : trainingFused ? 'fused' : 'plain';
  const normWeight = (layer: number, name: string) =>
    p.weight(layer < cfg.nLayer ? `model.layers.${layer}.${name}.weight` : 'model.norm.weight');
  // h is the residual stream [B, T, C], x its norm for the next sublayer (the final norm at the end).
  let h = p.embed('model.embed_tokens.weight', ids);
  let x = rmsNorm(g, h, normWeight(0, 'input_layernorm'), cfg.eps, normKind !== 'plain');
  for (let i = 0; i < cfg.nLayer; i++) {
    const prefix = `model.layers.${i}`;
    const a = attention(g, cfg, p, x, shared, `${prefix}.self_attn`, i);
    ({ sum: h, normed: x } = addAndNorm(g, h, a, normWeight(i, 'post_attention_layernorm'), cfg.eps, normKind));
    const m = mlp(g, cfg, p, x, `${prefix}.mlp`, { fused, trainingFused });
    ({ sum: h, normed: x } = addAndNorm(g, h, m, normWeight(i + 1, 'input_layernorm'), cfg.eps, normKind));
  }
  return x;
}

/** The LM head's weight [V, C]: the token embedding when tied, else lm_head. */
export function llamaHeadName(cfg: LlamaConfig): string {
  return cfg.tieEmbeddings ? 'model.embed_tokens.weight' : 'lm_head.weight';
}

/**
 * Every weight a Llama/Qwen2 checkpoint holds, by its save_pretrained name, and how transformers'
 * `_init_weights` starts it: Linear and Embedding ~ N(0, initializer_range), biases 0, RMSNorm 1.
 */
export function llamaWeightSpecs(cfg: LlamaConfig): WeightSpec[] {
  const { hidden: C, intermediate: F, headDim: D, nHead: H, nKvHead: KV, vocabSize: V } = cfg;
  const specs: WeightSpec[] = [{ name: 'model.embed_tokens.weight', shape: [V, C], init: 'normal' }];
  const linear = (name: string, out: number, inp: number, bias: boolean) => {
    specs.push({ name: `${name}.weight`, shape: [out, inp], init: 'normal' });
    if (bias) specs.push({ name: `${name}.bias`, shape: [out], init: 'zeros' });
  };
  for (let i = 0; i < cfg.nLayer; i++) {
    const l = `model.layers.${i}`;
    specs.push({ name: `${l}.input_layernorm.weight`, shape: [C], init: 'ones' });
    linear(`${l}.self_attn.q_proj`, H * D, C, cfg.qkvBias); // [H·D, C]
    linear(`${l}.self_attn.k_proj`, KV * D, C, cfg.qkvBias); // [KV·D, C]
    linear(`${l}.self_attn.v_proj`, KV * D, C, cfg.qkvBias); // [KV·D, C]
    linear(`${l}.self_attn.o_proj`, C, H * D, cfg.oBias); // [C, H·D]
    specs.push({ name: `${l}.post_attention_layernorm.weight`, shape: [C], init: 'ones' });
    linear(`${l}.mlp.gate_proj`, F, C, cfg.mlpBias); // [F, C]
    linear(`${l}.mlp.up_proj`, F, C, cfg.mlpBias); // [F, C]
    linear(`${l}.mlp.down_proj`, C, F, cfg.mlpBias); // [C, F]
  }
  specs.push({ name: 'model.norm.weight', shape: [C], init: 'ones' });
  if (!cfg.tieEmbeddings) specs.push({ name: 'lm_head.weight', shape: [V, C], init: 'normal' });
  return specs;
}
