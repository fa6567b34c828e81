// Writes a GPTBigCode model folder exactly as `transformers` save_pretrained would (config.json,
// generation_config.json, tokenizer files, model.safetensors with HF tensor names), with seeded
// random weights, for tests and the offline demo (docs/offline-fixtures.md). The tokenizer is
// GPT-2's with StarCoder's FIM special tokens appended (StarCoder's own vocabulary is not on npm).
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { GPT2_EOS_ID, writeGpt2TokenizerFiles } from './gpt2Tokenizer';
import { writeSafetensors } from './safetensors';
import { FixtureTensors, writeJsonAtomic } from './tinyWeights';

export interface GptBigCodeShape {
  nLayer: number;
  nHead: number;
  nEmbd: number;
  nPositions: number;
  /** Default 4·nEmbd. */
  nInner?: number;
  /** Before the special tokens are appended; default 50257 (the GPT-2 vocabulary). */
  vocabSize?: number;
}

export const TINY_GPT_BIGCODE: GptBigCodeShape = { nLayer: 2, nHead: 4, nEmbd: 64, nPositions: 128 };

/** StarCoder's FIM and metadata markers. */
export const STARCODER_SPECIAL_TOKENS = [
  '<fim_prefix>',
  '<fim_middle>',
  '<fim_suffix>',
  '<fim_pad>',
  '<filename>',
  '<gh_stars>',
];

const INIT_STD = 0.02;

function bigCodeConfig(shape: GptBigCodeShape, V: number, nInner: number): object {
  return {
    activation_function: 'gelu_pytorch_tanh',
    architectures: ['GPTBigCodeForCausalLM'],
    attention_softmax_in_fp32: true,
    attn_pdrop: 0.1,
    bos_token_id: GPT2_EOS_ID,
    embd_pdrop: 0.1,
    eos_token_id: GPT2_EOS_ID,
    initializer_range: INIT_STD,
    layer_norm_epsilon: 1e-5,
    model_type: 'gpt_bigcode',
    multi_query: true,
    n_embd: shape.nEmbd,
    n_head: shape.nHead,
    n_inner: nInner,
    n_layer: shape.nLayer,
    n_positions: shape.nPositions,
    resid_pdrop: 0.1,
    scale_attention_softmax_in_fp32: true,
    scale_attn_weights: true,
    summary_activation: null,
    summary_first_dropout: 0.1,
    summary_proj_to_labels: true,
    summary_type: 'cls_index',
    summary_use_proj: true,
    torch_dtype: 'float32',
    transformers_version: '4.46.0',
    use_cache: true,
    vocab_size: V,
  };
}

/**
 * Writes a GPTBigCode (multi-query) model folder with random weights from `seed`; the same
 * arguments give identical bytes.
 */
export function writeGptBigCodeModel(
  dir: string,
  shape: GptBigCodeShape,
  seed = 0,
  o: { embeddingStd?: number; extraSpecialTokens?: string[] } = {},
): void {
  const { nLayer: L, nHead: H, nEmbd: C, nPositions: P } = shape;
  if (C % H !== 0) throw new Error(`GptBigCodeShape: nEmbd ${C} is not divisible by nHead ${H}`);
  const D = C / H;
  const F = shape.nInner ?? 4 * C;
  const extra = o.extraSpecialTokens ?? STARCODER_SPECIAL_TOKENS;
  const V = (shape.vocabSize ?? 50257) + extra.length;
  const t = new FixtureTensors(seed);
  // Residual projections scaled by 1/sqrt(2L), as GPTBigCode's _init_weights does.
  const projStd = INIT_STD / Math.sqrt(2 * L);
  t.normal('transformer.wte.weight', [V, C], o.embeddingStd ?? INIT_STD); // [V, C], tied with the LM head
  t.normal('transformer.wpe.weight', [P, C], INIT_STD); // [P, C]
  for (let i = 0; i < L; i++) {
    const h = `transformer.h.${i}`;
    // nn.Linear layout: weight is [out, in]. Biases random (not HF's zeros) so a dropped bias shows.
    t.ones(`${h}.ln_1.weight`, [C]);
    t.zeros(`${h}.ln_1.bias`, [C]);
    t.normal(`${h}.attn.c_attn.weight`, [C + 2 * D, C], INIT_STD); // [C + 2D, C]: q, then one k and one v head
    t.normal(`${h}.attn.c_attn.bias`, [C + 2 * D], INIT_STD);
    t.normal(`${h}.attn.c_proj.weight`, [C, C], projStd); // [C, C]
    t.normal(`${h}.attn.c_proj.bias`, [C], INIT_STD);
    t.ones(`${h}.ln_2.weight`, [C]);
    t.zeros(`${h}.ln_2.bias`, [C]);
    t.normal(`${h}.mlp.c_fc.weight`, [F, C], INIT_STD); // [F, C]
    t.normal(`${h}.mlp.c_fc.bias`, [F], INIT_STD);
    t.normal(`${h}.mlp.c_proj.weight`, [C, F], projStd); // [C, F]
    t.normal(`${h}.mlp.c_proj.bias`, [C], INIT_STD);
  }
  t.ones('transformer.ln_f.weight', [C]);
  t.zeros('transformer.ln_f.bias', [C]);

  mkdirSync(dir, { recursive: true });
  writeJsonAtomic(join(dir, 'config.json'), bigCodeConfig(shape, V, F));
  writeJsonAtomic(join(dir, 'generation_config.json'), {
    _from_model_config: true,
    bos_token_id: GPT2_EOS_ID,
    eos_token_id: GPT2_EOS_ID,
    transformers_version: '4.46.0',
  });
  writeGpt2TokenizerFiles(dir, { extraSpecialTokens: extra, modelMaxLength: P });
  writeSafetensors(join(dir, 'model.safetensors'), t.tensors, { format: 'pt' });
}
