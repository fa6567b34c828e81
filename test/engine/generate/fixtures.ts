/** Small models, adapters and a transformers.js loader shared by the generation and export tests. */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeGpt2Model } from '../../../fixtures/tinyModel';
import type { Adapter } from '../../../src/engine/formats/peft';
import { loadModel, type LoadedModel } from '../../../src/engine/models';
import type { LoraSettings } from '../../../src/engine/formats/peft';
import { buildLmGraph } from '../../../src/engine/train/lmGraph';
import { Rng } from '../../../src/engine/rng';

export const GPT2_SHAPE = { nLayer: 2, nHead: 4, nEmbd: 32, nPositions: 64, vocabSize: 300 };

export async function gpt2Fixture(): Promise<{ dir: string; modelDir: string; model: LoadedModel }> {
  const dir = mkdtempSync(join(tmpdir(), 'lt-gen-'));
  const modelDir = join(dir, 'base');
  // Trained-scale embeddings: logits far from uniform, so greedy choices are clear-cut.
  await writeGpt2Model(modelDir, GPT2_SHAPE, 3, { embeddingStd: 0.3 });
  return { dir, modelDir, model: loadModel(modelDir) };
}

/** An adapter with random non-zero B (a fresh adapter's B is 0 and changes nothing). */
export function randomAdapter(model: LoadedModel, settings: LoraSettings, seed = 4): Adapter {
  const rng = new Rng(seed);
  const { trainables } = buildLmGraph(model, { mode: 'lora', lora: settings, withGradients: false });
  return {
    settings,
    baseModel: 'org/tiny-base',
    values: new Map(
      trainables.map((t) => [
        t.name,
        {
          shape: t.shape,
          data: Float32Array.from(t.initial, (v) => (t.name.includes('lora_B') ? rng.normal() * 0.3 : v)),
        },
      ]),
    ),
  };
}

export function randomIds(n: number, vocab: number, seed: number): number[] {
  const rng = new Rng(seed);
  return Array.from({ length: n }, () => rng.nextInt(vocab));
}

/** log-softmax of row t of logits [T, V] at `label`. */
export function logprobAt(logits: Float32Array, V: number, t: number, label: number): number {
  const row = logits.subarray(t * V, (t + 1) * V);
  let max = -Infinity;
  for (const x of row) max = Math.max(max, x);
  let sum = 0;
  for (const x of row) sum += Math.exp(x - max);
  return row[label] - max - Math.log(sum);
}

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`lengths differ: ${a.length} vs ${b.length}`);
  let d = 0;
  for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i] - b[i]));
  return d;
}

// ---- transformers.js, from disk only -------------------------------------------------------

interface TjsTensor {
  data: ArrayLike<number | bigint>;
  dims: number[];
}
interface TjsModel {
  (inputs: Record<string, unknown>): Promise<{ logits: TjsTensor }>;
  generate(o: Record<string, unknown>): Promise<TjsTensor>;
  dispose(): Promise<unknown>;
}
interface Tjs {
  env: { allowRemoteModels: boolean; allowLocalModels: boolean };
  Tensor: new (type: string, data: unknown, dims: number[]) => TjsTensor;
  AutoModelForCausalLM: { from_pretrained(path: string, o: Record<string, unknown>): Promise<TjsModel> };
}

function transformers(): Tjs {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const m = require('@huggingface/transformers') as Tjs;
  m.env.allowRemoteModels = false;
  m.env.allowLocalModels = true;
  return m;
}

/**
 * Loads an exported folder with transformers.js: full logits [T, V] for ids, and greedy generation.
 * Without `dtype`, the folder's config.json (or transformers.js' default, fp32 on Node) decides.
 */
export async function transformersJs(dir: string, dtype?: 'fp32' | 'q8') {
  const t = transformers();
  const model = await t.AutoModelForCausalLM.from_pretrained(dir, {
    local_files_only: true,
    ...(dtype ? { dtype } : {}),
  });
  const ids = (ids: number[]) => new t.Tensor('int64', BigInt64Array.from(ids, BigInt), [1, ids.length]);
  const ones = (n: number) => new t.Tensor('int64', new BigInt64Array(n).fill(1n), [1, n]);
  return {
    async logits(input: number[]): Promise<Float32Array> {
      const out = await model({ input_ids: ids(input), attention_mask: ones(input.length) });
      return Float32Array.from(out.logits.data as Float32Array);
    },
    async greedy(input: number[], maxNewTokens: number): Promise<number[]> {
      const out = await model.generate({
        input_ids: ids(input),
        attention_mask: ones(input.length),
        max_new_tokens: maxNewTokens,
        min_new_tokens: maxNewTokens,
        do_sample: false,
      });
      return Array.from(out.data, Number).slice(input.length);
    },
    dispose: () => model.dispose(),
  };
}
