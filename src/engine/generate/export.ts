/**
 * `localtune export`: a model folder (with a LoRA adapter merged) written as a folder that
 * `@huggingface/transformers` loads from disk: config.json (use_cache), generation_config.json,
 * tokenizer.json, tokenizer_config.json, onnx/model.onnx (fp32) or onnx/model_quantized.onnx
 * (int8 weights; load it with `dtype: 'q8'`), `*.onnx_data` beside it when the weights are large,
 * and a model card (README.md). Written to a temp folder beside the target and renamed into place.
 */
import { copyFileSync, existsSync, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { OptionError, UserError } from '../errors';
import { Decoder, readFimLayout } from './decoder';
import { buildInferenceGraph } from './inferenceGraph';
import { quantizeGraphInt8 } from './quantize';
import { logProbability } from './sampling';
import { PORTABLE_INT8_LEVELS } from '../onnx/int8';
import { loadModel, type LoadedModel } from '../models';
import { readModelConfig } from '../models/config';
import type { LoraSettings } from '../formats/peft';
import { createSession } from '../onnx/session';
import { Rng } from '../rng';
import type { Adapter } from '../formats/peft';
import { loadTokenizer } from '../tokenizer/tokenizer';
import { loadAdapterFor } from '../train/adapterFit';
import { scoreIds } from '../train/score';

export type ExportDtype = 'fp32' | 'int8';

/** What the model card says beyond what the folders tell (all optional). */
export interface ModelCardInfo {
  /** The base model's hub id or name (default: the adapter's base_model_name_or_path, else the folder name). */
  baseModel?: string;
  /** A short description of the training data (e.g. the dataset manifest's summary). */
  trainingData?: string;
  /** Evaluation figures, e.g. { 'validation loss': 1.92, 'validation perplexity': 6.8 }. */
  evaluation?: Record<string, number | string>;
  /** Training settings worth recording, e.g. { steps: 400, 'learning rate': 2e-4 }. */
  training?: Record<string, number | string>;
}

export interface ExportOptions {
  modelDir: string;
  adapterDir?: string;
  outDir: string;
  dtype: ExportDtype;
  card?: ModelCardInfo;
  /** Weights in `onnx/<model>.onnx_data`: true, false, or (default) when they exceed 1 GiB. */
  externalData?: boolean;
  /** Replace an existing output folder. */
  overwrite?: boolean;
}

export interface ExportResult {
  outDir: string;
  /** The ONNX file, relative to outDir. */
  modelFile: string;
  files: string[];
  /** int8 only: the largest |logit difference| against fp32 on a fixed probe sequence. */
  maxLogitDiff?: number;
  probeTokens?: number;
}

const EXTERNAL_AUTO_BYTES = 1024 ** 3;
const PROBE_TOKENS = 32;

export async function exportModel(o: ExportOptions): Promise<ExportResult> {
  if (o.dtype !== 'fp32' && o.dtype !== 'int8')
    throw new OptionError(['dtype'], `dtype must be fp32 or int8 (got "${String(o.dtype)}")`);
  const outDir = resolve(o.outDir);
  if (existsSync(outDir) && !o.overwrite)
    throw new OptionError(['outDir'], `${outDir}: already exists; choose another outDir folder or remove it`);
  const model = loadModel(o.modelDir);
  try {
    const adapter = o.adapterDir ? loadAdapterFor(model, o.adapterDir) : undefined;
    const tokenizerFile = join(o.modelDir, 'tokenizer.json');
    if (!existsSync(tokenizerFile))
      throw new UserError(
        `${tokenizerFile}: missing; the exported model needs the base model's tokenizer.json`,
      );
    await loadTokenizer(o.modelDir); // a tokenizer that does not load is not copied into an export
    return await writeExport(model, adapter, outDir, o);
  } finally {
    model.weights.close();
  }
}

async function writeExport(
  model: LoadedModel,
  adapter: Adapter | undefined,
  outDir: string,
  o: ExportOptions,
): Promise<ExportResult> {
  const { graph, layout } = buildInferenceGraph(model, { adapter });
  let maxLogitDiff: number | undefined;
  let probe: number[] = [];
  if (o.dtype === 'int8') {
    const info = {
      layout,
      vocabSize: model.family.vocabSize(model.config),
      contextLength: model.family.contextLength(model.config),
      eosIds: [],
      fimLayout: readFimLayout(model.dir),
    };
    const rng = new Rng(0);
    probe = Array.from({ length: Math.min(PROBE_TOKENS, info.contextLength) }, () =>
      rng.nextInt(info.vocabSize),
    );
    const logitsOf = async (bytes: Uint8Array) => {
      const d = new Decoder(await createSession(bytes), info);
      return (await d.forward(probe, d.emptyPast(), 0, { allLogits: true })).logits;
    };
    const fp32 = await logitsOf(graph.toBytes());
    // The file may run on any CPU: weights within the levels every integer GEMM multiplies exactly.
    quantizeGraphInt8(graph, { accuracyLevel: 4, maxLevel: PORTABLE_INT8_LEVELS });
    const int8 = await logitsOf(graph.toBytes());
    maxLogitDiff = 0;
    for (let i = 0; i < fp32.length; i++) maxLogitDiff = Math.max(maxLogitDiff, Math.abs(fp32[i] - int8[i]));
  }

  const modelName = o.dtype === 'int8' ? 'model_quantized.onnx' : 'model.onnx';
  let weightBytes = 0;
  for (const i of graph.initializers.values()) weightBytes += i.data.byteLength;
  const external = o.externalData ?? weightBytes > EXTERNAL_AUTO_BYTES;

  const tmp = join(dirname(outDir), `.${basename(outDir)}.tmp-${process.pid}`);
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(join(tmp, 'onnx'), { recursive: true });
  try {
    const dataFile = `${modelName}_data`;
    graph.save(join(tmp, 'onnx', modelName), external ? 1024 : Infinity, { dataFile });
    const files = [`onnx/${modelName}`];
    if (existsSync(join(tmp, 'onnx', dataFile))) files.push(`onnx/${dataFile}`);

    const raw = readModelConfig(model.dir);
    const jsConfig: Record<string, unknown> = {
      ...((raw['transformers.js_config'] as object | undefined) ?? {}),
    };
    if (files.length > 1) jsConfig.use_external_data_format = { [modelName]: 1 };
    if (o.dtype === 'int8') jsConfig.dtype = 'q8';
    const config: Record<string, unknown> = { ...raw, use_cache: true, ...model.family.exportConfig };
    if (Object.keys(jsConfig).length) config['transformers.js_config'] = jsConfig;
    writeJson(join(tmp, 'config.json'), config);
    files.push('config.json');

    const genFile = join(model.dir, 'generation_config.json');
    if (existsSync(genFile)) copyFileSync(genFile, join(tmp, 'generation_config.json'));
    else
      writeJson(join(tmp, 'generation_config.json'), {
        bos_token_id: raw.bos_token_id,
        eos_token_id: raw.eos_token_id,
      });
    files.push('generation_config.json');
    for (const f of ['tokenizer.json', 'tokenizer_config.json', 'special_tokens_map.json']) {
      if (!existsSync(join(model.dir, f))) continue;
      copyFileSync(join(model.dir, f), join(tmp, f));
      files.push(f);
    }

    await checkExported(tmp, model, adapter, o.dtype, maxLogitDiff);
    writeFileSync(
      join(tmp, 'README.md'),
      modelCard({
        model,
        adapter,
        dtype: o.dtype,
        info: o.card ?? {},
        maxLogitDiff,
        probeTokens: probe.length,
      }),
    );
    files.push('README.md');

    // Into place: an existing folder (with overwrite) is moved aside first and removed after.
    const old = existsSync(outDir) ? `${tmp}.old` : undefined;
    if (old) renameSync(outDir, old);
    renameSync(tmp, outDir);
    if (old) rmSync(old, { recursive: true, force: true });
    return {
      outDir,
      modelFile: `onnx/${modelName}`,
      files,
      maxLogitDiff,
      probeTokens: maxLogitDiff === undefined ? undefined : probe.length,
    };
  } catch (err) {
    rmSync(tmp, { recursive: true, force: true });
    throw err;
  }
}

/**
 * The exported folder, loaded as a user would load it, must give the training graph's next-token
 * log-probabilities on a probe (int8: within what its logit difference allows), or nothing is written.
 */
async function checkExported(
  dir: string,
  model: LoadedModel,
  adapter: Adapter | undefined,
  dtype: ExportDtype,
  maxLogitDiff: number | undefined,
): Promise<void> {
  const context = model.family.contextLength(model.config);
  const vocab = model.family.vocabSize(model.config);
  const rng = new Rng(1);
  const probe = Array.from({ length: Math.min(PROBE_TOKENS, context) }, () => rng.nextInt(vocab));
  let expected: number[];
  let logits: Float32Array;
  try {
    expected = await scoreIds(model, probe, { adapter });
    const d = await Decoder.fromExported(dir, { dtype });
    logits = (await d.forward(probe, d.emptyPast(), 0, { allLogits: true })).logits;
  } catch (err) {
    if (err instanceof UserError) throw err;
    throw new UserError(
      `${model.dir}: the model does not run (${(err as Error).message.split('\n')[0]}); do its weights match its config.json?`,
    );
  }
  // log-softmax moves by at most twice the largest logit change.
  const tolerance = dtype === 'int8' ? 2 * (maxLogitDiff ?? 0) + 1e-3 : 1e-3;
  let worst = 0;
  for (let t = 0; t + 1 < probe.length; t++) {
    const got = logProbability(logits.subarray(t * vocab, (t + 1) * vocab), probe[t + 1]);
    const diff = Math.abs(got - expected[t]);
    worst = Number.isNaN(diff) ? Infinity : Math.max(worst, diff / Math.max(1, Math.abs(expected[t])));
  }
  if (worst === Infinity)
    throw new UserError(
      `${model.dir}: the model gives NaN or infinite log-probabilities (weights that overflow, or are not finite); nothing was written`,
    );
  if (!(worst <= tolerance))
    throw new UserError(
      `${model.dir}: the exported graph disagrees with the training graph (log-probability off by ${worst.toPrecision(3)}, allowed ${tolerance.toPrecision(3)}); nothing was written — are its weights finite and as config.json says?`,
    );
}

function writeJson(path: string, value: unknown): void {
  writeFileSync(path, JSON.stringify(value, null, 2) + '\n');
}

function loraLine(s: LoraSettings): string {
  return [
    `rank r = ${s.r}`,
    `alpha = ${s.alpha}${s.rslora ? ' (rsLoRA scaling α/√r)' : ''}`,
    `target modules: ${s.targets.join(', ')}`,
    `dropout ${s.dropout}`,
  ].join('; ');
}

function table(rows: Record<string, number | string>): string {
  const lines = ['| | |', '|---|---|'];
  for (const [k, v] of Object.entries(rows))
    lines.push(`| ${k} | ${typeof v === 'number' ? +v.toPrecision(6) : v} |`);
  return lines.join('\n');
}

/** README.md: what the model is, how it was made, how to load it, and what not to expect of it. */
export function modelCard(c: {
  model: LoadedModel;
  adapter?: Adapter;
  dtype: ExportDtype;
  info: ModelCardInfo;
  maxLogitDiff?: number;
  probeTokens?: number;
}): string {
  const base = c.info.baseModel ?? (c.adapter?.baseModel || undefined) ?? basename(resolve(c.model.dir));
  const out: string[] = [
    '---',
    'library_name: transformers.js',
    `base_model: ${JSON.stringify(base)}`,
    'pipeline_tag: text-generation',
    'tags:',
    '- localtune',
    '- onnx',
    ...(c.adapter ? ['- lora'] : []),
    '---',
    '',
    `# ${c.adapter ? `${base}, fine-tuned with LocalTune` : base}`,
    '',
    `An ONNX export of a ${c.model.modelType} model by LocalTune, with a KV cache, for`,
    '`@huggingface/transformers` (transformers.js) and onnxruntime.',
    '',
    '## Model',
    '',
    `- Base model: ${base}`,
    c.adapter
      ? `- Fine-tuning: LoRA (${loraLine(c.adapter.settings)}), merged into the weights (W + scale·B·A)`
      : '- Fine-tuning: none (the base model as is)',
    c.dtype === 'int8'
      ? `- Weights: int8 (weight-only, blockwise, onnxruntime MatMulNBits); largest logit difference against fp32 on a ${c.probeTokens}-token probe: ${c.maxLogitDiff?.toPrecision(3)}`
      : '- Weights: float32',
    `- Context length: ${c.model.family.contextLength(c.model.config)} tokens`,
    '',
    '## Training data',
    '',
    c.info.trainingData ?? (c.adapter ? 'Not recorded at export.' : 'None: this is the base model.'),
  ];
  if (c.info.training && Object.keys(c.info.training).length)
    out.push('', '## Training', '', table(c.info.training));
  out.push('', '## Evaluation', '');
  out.push(
    c.info.evaluation && Object.keys(c.info.evaluation).length
      ? table(c.info.evaluation)
      : 'Not recorded at export.',
  );
  out.push(
    '',
    '## Use',
    '',
    '```js',
    "import { AutoModelForCausalLM, AutoTokenizer } from '@huggingface/transformers';",
    "const tokenizer = await AutoTokenizer.from_pretrained('/path/to/this/folder');",
    `const model = await AutoModelForCausalLM.from_pretrained('/path/to/this/folder'${c.dtype === 'int8' ? ", { dtype: 'q8' }" : ''});`,
    '```',
    '',
    'Or `localtune generate --model /path/to/this/folder --prompt "..."`.',
    '',
    '## Limits',
    '',
    'This is a small language model, tuned on a small dataset. It continues text in the style of',
    'that data and can repeat what it saw there, but it knows little beyond it: expect confident',
    'mistakes, invented names and APIs, and code that does not compile or is subtly wrong. It was',
    'not trained or evaluated for safety, fairness or factual accuracy. Review everything it writes,',
    'and do not use it where a wrong answer causes harm. Any secrets or personal data that reached',
    'the training data may be reproduced.',
    '',
  );
  return out.join('\n');
}
