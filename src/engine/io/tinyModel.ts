// Writes a GPT-2 model folder exactly as `transformers` save_pretrained would (config.json,
// generation_config.json, tokenizer files, model.safetensors), with seeded random weights.
// Tests, benchmarks and the offline demo use it instead of downloading gpt2 (docs/offline-fixtures.md).
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Rng } from '../rng';
import { GPT2_EOS_ID, writeGpt2TokenizerFiles } from './gpt2Tokenizer';
import { writeSafetensors, type WritableTensor } from './safetensors';

export interface Gpt2Shape {
  nLayer: number;
  nHead: number;
  nEmbd: number;
  nPositions: number;
  /** Before extra special tokens are appended; default 50257 (GPT-2's vocabulary). */
  vocabSize?: number;
}

export const TINY_GPT2: Gpt2Shape = { nLayer: 2, nHead: 4, nEmbd: 128, nPositions: 128 };
export const GPT2_SMALL: Gpt2Shape = { nLayer: 12, nHead: 12, nEmbd: 768, nPositions: 1024 };

const GPT2_VOCAB = 50257;
const INIT_STD = 0.02; // GPT-2's initializer_range

/** What config.json says, as save_pretrained writes it for GPT2LMHeadModel. */
function gpt2Config(shape: Gpt2Shape, vocabSize: number): object {
  return {
    activation_function: 'gelu_new',
    architectures: ['GPT2LMHeadModel'],
    attn_pdrop: 0.1,
    bos_token_id: GPT2_EOS_ID,
    embd_pdrop: 0.1,
    eos_token_id: GPT2_EOS_ID,
    initializer_range: INIT_STD,
    layer_norm_epsilon: 1e-5,
    model_type: 'gpt2',
    n_ctx: shape.nPositions,
    n_embd: shape.nEmbd,
    n_head: shape.nHead,
    n_inner: null,
    n_layer: shape.nLayer,
    n_positions: shape.nPositions,
    reorder_and_upcast_attn: false,
    resid_pdrop: 0.1,
    scale_attn_by_inverse_layer_idx: false,
    scale_attn_weights: true,
    summary_activation: null,
    summary_first_dropout: 0.1,
    summary_proj_to_labels: true,
    summary_type: 'cls_index',
    summary_use_proj: true,
    tie_word_embeddings: true,
    torch_dtype: 'float32',
    transformers_version: '4.46.0',
    use_cache: true,
    vocab_size: vocabSize,
  };
}

function checkShape(shape: Gpt2Shape): void {
  const { nLayer, nHead, nEmbd, nPositions, vocabSize } = shape;
  const ints = { nLayer, nHead, nEmbd, nPositions, vocabSize: vocabSize ?? GPT2_VOCAB };
  for (const [k, v] of Object.entries(ints)) {
    if (!Number.isSafeInteger(v) || v < 1)
      throw new Error(`Gpt2Shape.${k} must be a positive integer, got ${v}`);
  }
  if (nEmbd % nHead !== 0) throw new Error(`Gpt2Shape: nEmbd ${nEmbd} is not divisible by nHead ${nHead}`);
}

/**
 * All tensors with their HF names. Each tensor's values come from its own Rng stream keyed by its
 * name, so they depend only on (seed, name): adding a layer leaves the others' weights unchanged.
 */
function gpt2Weights(
  shape: Gpt2Shape,
  V: number,
  seed: number,
  embeddingStd: number,
): Record<string, WritableTensor> {
  const { nLayer: L, nEmbd: C, nPositions: P } = shape;
  const rng = new Rng(seed);
  const out: Record<string, WritableTensor> = {};
  const normal = (name: string, dims: number[], std: number) => {
    const data = new Float32Array(dims.reduce((a, d) => a * d, 1));
    rng.fork(name).fillNormal(data, std);
    out[name] = { dtype: 'F32', shape: dims, data };
  };
  const zeros = (name: string, dims: number[]) => {
    out[name] = { dtype: 'F32', shape: dims, data: new Float32Array(dims.reduce((a, d) => a * d, 1)) };
  };
  const ones = (name: string, dims: number[]) => {
    out[name] = {
      dtype: 'F32',
      shape: dims,
      data: new Float32Array(dims.reduce((a, d) => a * d, 1)).fill(1),
    };
  };
  // GPT-2 scales the residual projections by 1/sqrt(2L) so the residual stream's variance stays put.
  const projStd = INIT_STD / Math.sqrt(2 * L);

  normal('transformer.wte.weight', [V, C], embeddingStd); // [V, C], tied with the LM head
  normal('transformer.wpe.weight', [P, C], INIT_STD); // [P, C]
  for (let i = 0; i < L; i++) {
    const h = `transformer.h.${i}`;
    // Conv1D layout: weight is [in, out] (y = x @ W + b), the transpose of nn.Linear.
    ones(`${h}.ln_1.weight`, [C]);
    zeros(`${h}.ln_1.bias`, [C]);
    normal(`${h}.attn.c_attn.weight`, [C, 3 * C], INIT_STD); // [C, 3C]: q, k, v side by side
    zeros(`${h}.attn.c_attn.bias`, [3 * C]);
    normal(`${h}.attn.c_proj.weight`, [C, C], projStd); // [C, C]
    zeros(`${h}.attn.c_proj.bias`, [C]);
    ones(`${h}.ln_2.weight`, [C]);
    zeros(`${h}.ln_2.bias`, [C]);
    normal(`${h}.mlp.c_fc.weight`, [C, 4 * C], INIT_STD); // [C, 4C]
    zeros(`${h}.mlp.c_fc.bias`, [4 * C]);
    normal(`${h}.mlp.c_proj.weight`, [4 * C, C], projStd); // [4C, C]
    zeros(`${h}.mlp.c_proj.bias`, [C]);
  }
  ones('transformer.ln_f.weight', [C]);
  zeros('transformer.ln_f.bias', [C]);
  return out;
}

function writeJson(path: string, value: object): void {
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, JSON.stringify(value, null, 2) + '\n');
  renameSync(tmp, path);
}

/**
 * Writes a GPT-2 model folder with random weights from `seed` (the same seed gives identical bytes).
 * Extra special tokens (e.g. FIM markers) get ids from 50257 on and grow vocab_size to match.
 */
export async function writeGpt2Model(
  dir: string,
  shape: Gpt2Shape,
  seed = 0,
  opts: {
    extraSpecialTokens?: string[];
    /**
     * Token-embedding std (default 0.02, GPT-2's init). A trained GPT-2's embeddings are ~10x
     * larger; tests of LoRA learning use that scale, since LoRA cannot grow the tied head.
     */
    embeddingStd?: number;
  } = {},
): Promise<void> {
  checkShape(shape);
  const extra = opts.extraSpecialTokens ?? [];
  const V = (shape.vocabSize ?? GPT2_VOCAB) + extra.length;
  mkdirSync(dir, { recursive: true });
  writeJson(join(dir, 'config.json'), gpt2Config(shape, V));
  writeJson(join(dir, 'generation_config.json'), {
    _from_model_config: true,
    bos_token_id: GPT2_EOS_ID,
    eos_token_id: GPT2_EOS_ID,
    transformers_version: '4.46.0',
  });
  writeGpt2TokenizerFiles(dir, { extraSpecialTokens: extra, modelMaxLength: shape.nPositions });
  writeSafetensors(
    join(dir, 'model.safetensors'),
    gpt2Weights(shape, V, seed, opts.embeddingStd ?? INIT_STD),
    { format: 'pt' },
  );
}
