/**
 * The model-family registry (model_type → family) and loading a Hugging Face model folder.
 * Adding a family is adding a row here and one file beside this one.
 */
import { join } from 'node:path';
import type { Graph, Tensor } from '../onnx/builder';
import { UserError } from '../errors';
import { openWeights } from '../formats/weights';
import { readModelConfig, type RawConfig } from './config';
import { writeInitialModel, type WeightSpec } from './init';
import {
  GPT2_LORA_TARGETS,
  GPT2_HEAD_NAME,
  gpt2Hidden,
  gpt2Tensors,
  gpt2KvLayout,
  parseGpt2Config,
  type Gpt2Config,
} from './gpt2';
import {
  GPT_BIGCODE_LORA_TARGETS,
  gptBigCodeHeadName,
  gptBigCodeHidden,
  gptBigCodeTensors,
  parseGptBigCodeConfig,
  type GptBigCodeConfig,
} from './gptBigCode';
import {
  LLAMA_LORA_TARGETS,
  llamaHeadName,
  llamaWeightSpecs,
  llamaHidden,
  parseLlamaConfig,
  type LlamaConfig,
} from './llama';
import type { KvCache, KvLayout } from './common';
import { resolveWeights, type ResolvedWeights, type WeightNaming } from './names';
import type { ModelParams } from './params';

export type ModelConfig = Gpt2Config | LlamaConfig | GptBigCodeConfig;

export interface Family<C extends ModelConfig = ModelConfig> {
  parse(raw: RawConfig, file: string): C;
  /** Final hidden states [B, T, C] for ids [B, T]. */
  hidden(g: Graph, cfg: C, p: ModelParams, ids: Tensor, cache?: KvCache): Tensor;
  /** The name of the LM head's weight [V, C] (the token embedding's when tied). */
  headName(cfg: C): string;
  defaultLoraTargets: string[];
  /** Whether PEFT stores this family's LoRA targets transposed (Conv1D layers). */
  fanInFanOut: boolean;
  contextLength(cfg: C): number;
  vocabSize(cfg: C): number;
  /** Which heads keep keys and values in the KV cache, and their layout. */
  kvLayout(cfg: C): KvLayout;
  /** Fields an exported config.json needs beyond the checkpoint's own, for transformers.js. */
  exportConfig: Record<string, unknown>;
  /** Every weight and how training from scratch starts it (families that support it). */
  weightSpecs?(cfg: C): WeightSpec[];
  /** Every tensor the graphs read, by its save_pretrained name, with the shape the config implies. */
  tensors(cfg: C): { name: string; shape: number[] }[];
  /** How checkpoint names map to those (the base-model prefix) and the buffers to pass over. */
  naming: WeightNaming;
}

/** transformers' `base_model_prefix` for GPT-2 and GPTBigCode; GPT-2's causal-mask buffers. */
const TRANSFORMER_NAMING: WeightNaming = {
  basePrefix: 'transformer.',
  ignored: [/(^|\.)h\.\d+\.attn\.(bias|masked_bias)$/],
};

/** A family typed by its own config (methods are bivariant, so it fits the registry's row type). */
const family = <C extends ModelConfig>(f: Family<C>): Family => f;

/** nn.Linear families (Llama, Qwen2): PEFT stores their LoRA matrices untransposed. */
const llamaFamily = family<LlamaConfig>({
  parse: parseLlamaConfig,
  hidden: llamaHidden,
  headName: llamaHeadName,
  defaultLoraTargets: LLAMA_LORA_TARGETS,
  fanInFanOut: false,
  contextLength: (c) => c.maxPositions,
  vocabSize: (c) => c.vocabSize,
  kvLayout: (c) => ({ nLayer: c.nLayer, kvHeads: c.nKvHead, headDim: c.headDim, fused: false }),
  exportConfig: {},
  weightSpecs: llamaWeightSpecs,
  tensors: llamaWeightSpecs,
  // Older conversions keep each layer's rotary table as a buffer.
  naming: { basePrefix: 'model.', ignored: [/\.rotary_emb\.inv_freq$/] },
});

const FAMILIES: Record<string, Family> = {
  gpt2: family<Gpt2Config>({
    parse: parseGpt2Config,
    hidden: gpt2Hidden,
    headName: () => GPT2_HEAD_NAME,
    defaultLoraTargets: GPT2_LORA_TARGETS,
    fanInFanOut: true,
    contextLength: (c) => c.nPositions,
    vocabSize: (c) => c.vocabSize,
    kvLayout: gpt2KvLayout,
    exportConfig: {},
    tensors: gpt2Tensors,
    naming: TRANSFORMER_NAMING,
  }),
  llama: llamaFamily,
  qwen2: llamaFamily,
  gpt_bigcode: family<GptBigCodeConfig>({
    parse: parseGptBigCodeConfig,
    hidden: gptBigCodeHidden,
    headName: gptBigCodeHeadName,
    defaultLoraTargets: GPT_BIGCODE_LORA_TARGETS,
    fanInFanOut: false,
    contextLength: (c) => c.nPositions,
    vocabSize: (c) => c.vocabSize,
    // One key/value head, fused as `key_value` [B, P, 2D].
    kvLayout: (c) => ({ nLayer: c.nLayer, kvHeads: 1, headDim: c.nEmbd / c.nHead, fused: true }),
    // transformers.js picks GPTBigCode's fused key_value cache from this flag (HF's default is true).
    exportConfig: { multi_query: true },
    tensors: gptBigCodeTensors,
    naming: TRANSFORMER_NAMING,
  }),
};

export const SUPPORTED_MODEL_TYPES = Object.keys(FAMILIES);

export interface LoadedModel {
  dir: string;
  modelType: string;
  config: ModelConfig;
  family: Family;
  /** The folder's weights under save_pretrained names, whichever layout the file stores. */
  weights: ResolvedWeights;
}

export function loadModel(dir: string): LoadedModel {
  const raw = readModelConfig(dir);
  const { family, config } = parseConfig(raw, join(dir, 'config.json'));
  const weights = resolveWeights(openWeights(dir), family.naming);
  return { dir, modelType: raw.model_type as string, config, family, weights };
}

/**
 * A model to train from scratch: `config.json` (a Hugging Face config) and weights drawn by the
 * family's initialisation rules, written into `dir`; the caller adds the tokenizer files.
 */
export function initModelFolder(dir: string, raw: RawConfig, file: string, seed: number): void {
  const { family, config } = parseConfig(raw, file);
  if (!family.weightSpecs)
    throw new UserError(
      `${file}: model_type "${String(raw.model_type)}" cannot be trained from scratch yet (supported: ${Object.keys(
        FAMILIES,
      )
        .filter((t) => FAMILIES[t].weightSpecs)
        .join(', ')})`,
    );
  writeInitialModel(dir, raw, family.weightSpecs(config), seed);
}

export function parseConfig(raw: RawConfig, file: string): { family: Family; config: ModelConfig } {
  const modelType = raw.model_type;
  if (typeof modelType !== 'string')
    throw new UserError(
      `${file}: "model_type" is missing; supported model types: ${SUPPORTED_MODEL_TYPES.join(', ')}`,
    );
  const family = FAMILIES[modelType];
  if (!family)
    throw new UserError(
      `${file}: model_type "${modelType}" is not supported; supported: ${SUPPORTED_MODEL_TYPES.join(', ')}`,
    );
  return { family, config: family.parse(raw, file) };
}
