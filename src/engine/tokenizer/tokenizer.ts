// Hugging Face tokenizers (tokenizer.json) through @huggingface/transformers, from a local folder only.
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { UserError } from '../errors';

export interface Tokenizer {
  /** One more than the largest id, counting added tokens (e.g. 50257 for GPT-2). */
  readonly vocabSize: number;
  readonly eosId: number | null;
  /** Token ids for `text`; no BOS/EOS or other template tokens are added. */
  encode(text: string): number[];
  /**
   * The ids transformers' tokenizer puts before a text's own when it adds special tokens (the
   * default for `tokenizer(text)`): `<s>` for Llama 2, `<|begin_of_text|>` for Llama 3, none for
   * GPT-2, Qwen2, SmolLM2, StarCoder. See `bosPrefix`.
   */
  readonly prefixIds: readonly number[];
  /** The exact text for `ids` (special tokens kept, no whitespace clean-up). */
  decode(ids: number[]): string;
  /** The id of a token spelled exactly so (a special/added token or a vocabulary entry), else undefined. */
  tokenId(token: string): number | undefined;
}

// The subset of transformers' PreTrainedTokenizer we use.
interface HfTokenizer {
  encode(text: string, opts: { add_special_tokens: boolean }): number[];
  decode(
    ids: number[],
    opts: { skip_special_tokens: boolean; clean_up_tokenization_spaces: boolean },
  ): string;
  get_vocab(): Map<string, number>;
  eos_token_id?: number | null;
  bos_token_id?: number | null;
}
interface TransformersModule {
  env: { allowRemoteModels: boolean; allowLocalModels: boolean };
  AutoTokenizer: {
    from_pretrained(path: string, opts?: { local_files_only?: boolean }): Promise<HfTokenizer>;
  };
}

/**
 * Loaded on first use: the package pulls in onnxruntime and a large bundle.
 * Where `require` exists (tsx running CJS, the esbuild CJS bundles, which keep the package external)
 * it loads the package's CJS build, the same module instance the rest of a bundle gets; in a pure
 * ES module it falls back to import(). Depending on the loader the exports may sit under `default`.
 */
async function transformers(): Promise<TransformersModule> {
  type Loaded = TransformersModule & { default?: TransformersModule };
  const mod: Loaded =
    typeof require === 'function'
      ? // eslint-disable-next-line @typescript-eslint/no-require-imports
        require('@huggingface/transformers')
      : await import('@huggingface/transformers');
  const m = mod.AutoTokenizer ? mod : mod.default;
  if (!m?.AutoTokenizer) throw new Error('@huggingface/transformers did not export AutoTokenizer');
  // Never reach the network: models come from disk (hub downloads live in hub/hub.ts).
  m.env.allowRemoteModels = false;
  m.env.allowLocalModels = true;
  return m;
}

/** Checks the files transformers needs, so a broken folder gets a message naming the file. */
function checkJsonFile(path: string, required: boolean): void {
  if (!existsSync(path)) {
    if (required)
      throw new UserError(`${path}: missing; the model folder needs a Hugging Face tokenizer.json`);
    return;
  }
  let value: unknown;
  try {
    value = JSON.parse(readFileSync(path, 'utf8'));
  } catch {
    throw new UserError(`${path}: not valid JSON; re-download the model or re-save its tokenizer`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new UserError(`${path}: not a JSON object; re-download the model or re-save its tokenizer`);
  }
  if (required && !('model' in value)) {
    throw new UserError(`${path}: has no "model" section, so it is not a Hugging Face tokenizer.json`);
  }
}

export async function loadTokenizer(modelDir: string): Promise<Tokenizer> {
  const dir = resolve(modelDir);
  const jsonPath = join(dir, 'tokenizer.json');
  checkJsonFile(jsonPath, true);
  checkJsonFile(join(dir, 'tokenizer_config.json'), false);

  const { AutoTokenizer } = await transformers();
  let hf: HfTokenizer;
  try {
    hf = await AutoTokenizer.from_pretrained(dir, { local_files_only: true });
  } catch (err) {
    const why = err instanceof Error ? err.message.split('\n')[0] : String(err);
    throw new UserError(`${jsonPath}: could not load the tokenizer (${why}); re-download the model`);
  }

  const vocab = hf.get_vocab();
  let maxId = -1;
  for (const id of vocab.values()) if (id > maxId) maxId = id;
  const eos = hf.eos_token_id;
  return {
    vocabSize: maxId + 1,
    eosId: typeof eos === 'number' ? eos : null,
    prefixIds: bosPrefix(hf, readTokenizerConfig(join(dir, 'tokenizer_config.json'))),
    encode: (text) => hf.encode(text, { add_special_tokens: false }),
    // transformers rejects an empty list; an empty sequence is simply empty text.
    decode: (ids) =>
      ids.length === 0
        ? ''
        : hf.decode(ids, { skip_special_tokens: false, clean_up_tokenization_spaces: false }),
    tokenId: (token) => vocab.get(token),
  };
}

function readTokenizerConfig(path: string): Record<string, unknown> {
  return existsSync(path) ? (JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>) : {};
}

/**
 * Llama's tokenizer classes rebuild their post-processor from `add_bos_token` / `add_eos_token`
 * in tokenizer_config.json (LlamaTokenizerFast.update_post_processor), so there the config decides.
 */
const BOS_FROM_CONFIG = /^(Code)?(Llama|Gemma)Tokenizer(Fast)?$/;
const PROBE = 'a';

/**
 * What transformers' tokenizer puts before a text: from `add_bos_token` for the Llama tokenizer
 * classes, else what tokenizer.json's post_processor adds (Llama 3's TemplateProcessing adds
 * `<|begin_of_text|>`; GPT-2's ByteLevel adds nothing), found by encoding a probe both ways.
 */
export function bosPrefix(hf: HfTokenizer, tokenizerConfig: Record<string, unknown>): number[] {
  const cls = tokenizerConfig.tokenizer_class;
  const addBos = tokenizerConfig.add_bos_token;
  if (typeof cls === 'string' && BOS_FROM_CONFIG.test(cls) && typeof addBos === 'boolean') {
    const bos = hf.bos_token_id;
    return addBos && typeof bos === 'number' ? [bos] : [];
  }
  const plain = hf.encode(PROBE, { add_special_tokens: false });
  const full = hf.encode(PROBE, { add_special_tokens: true });
  for (let k = 0; k + plain.length <= full.length; k++)
    if (plain.every((id, i) => full[k + i] === id)) return full.slice(0, k);
  return [];
}
