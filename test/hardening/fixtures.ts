/**
 * What the hardening tests break things with: a tiny model and its data, and copies of them
 * damaged one way each (a model folder whose weights are a folder, disagree with the config, hold
 * NaN, are cut short; datasets with a bad manifest or a missing segment; an adapter and a run of
 * another model).
 */
import { cpSync, mkdirSync, readdirSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeGpt2Model } from '../../fixtures/tinyModel';
import {
  SafetensorsReader,
  writeSafetensors,
  type WritableTensor,
} from '../../src/engine/formats/safetensors';
import { cli } from '../cli/capture';

export const SHAPE = { nLayer: 1, nHead: 2, nEmbd: 16, nPositions: 32 };
/** Flags that make one training step of the tiny model take a moment. */
export const TINY_TRAIN = ['--seq-len', '16', '--batch-tokens', '32', '--micro-batch-tokens', '32'];

export interface Corpus {
  root: string;
  model: string;
  text: string;
  jsonl: string;
  dataset: string;
  /** A LoRA run (and its adapter) on a model of another width. */
  otherRun: string;
  otherAdapter: string;
  /** A LoRA run on `model` with one checkpoint. */
  run: string;
  /** `run`'s adapter with NaN values. */
  nanAdapter: string;
  /** Finite weights so large that the logits overflow: only running the model shows it. */
  overflowModel: string;
  /** Damaged copies of `model`, by what is wrong. */
  badModels: Record<string, string>;
  /** Damaged copies of `dataset`, by what is wrong. */
  badDatasets: Record<string, string>;
}

export async function makeCorpus(root: string): Promise<Corpus> {
  const model = join(root, 'model');
  await writeGpt2Model(model, SHAPE, 1);
  const other = join(root, 'other-model');
  await writeGpt2Model(other, { ...SHAPE, nEmbd: 32 }, 2);
  const text = join(root, 'code.txt');
  writeFileSync(text, 'def add(a, b):\n    return a + b\n'.repeat(60));
  const jsonl = join(root, 'good.jsonl');
  writeFileSync(jsonl, '{"text": "print(1)"}\n'.repeat(40));
  const src = join(root, 'workspace');
  mkdirSync(src, { recursive: true });
  for (let i = 0; i < 12; i++)
    writeFileSync(join(src, `m${i}.py`), `def f${i}(x):\n    return x * ${i}\n`.repeat(20));

  const dataset = join(root, 'dataset');
  await must(cli('dataset', 'build', '--from', src, '--model', model, '--out', dataset));
  const otherRun = join(root, 'other-run');
  await must(
    cli('train', '--model', other, '--data', text, '--out', otherRun, '--steps', '1', ...TINY_TRAIN),
  );
  const run = join(root, 'run');
  await must(cli('train', '--model', model, '--data', text, '--out', run, '--steps', '1', ...TINY_TRAIN));

  return {
    root,
    model,
    text,
    jsonl,
    dataset,
    otherRun,
    otherAdapter: join(otherRun, 'adapter'),
    run,
    nanAdapter: copy(join(run, 'adapter'), join(root, 'nan-adapter'), (d) =>
      rewriteTensors(join(d, 'adapter_model.safetensors'), (t) => {
        for (const v of Object.values(t)) (v.data as Float32Array).fill(NaN);
      }),
    ),
    overflowModel: copy(model, join(root, 'model-overflow'), (d) =>
      rewriteWeights(d, (t) => (t['transformer.h.0.attn.c_attn.weight'].data as Float32Array).fill(3e38)),
    ),
    badModels: badModels(root, model),
    badDatasets: badDatasets(root, dataset),
  };
}

async function must(r: Promise<{ code: number; err: string[] }>): Promise<void> {
  const { code, err } = await r;
  if (code !== 0) throw new Error(`fixture command failed: ${err.join(' | ')}`);
}

function copy(from: string, to: string, damage: (dir: string) => void): string {
  cpSync(from, to, { recursive: true });
  damage(to);
  return to;
}

/** Rewrites model.safetensors with `change` applied to its tensors. */
function rewriteWeights(dir: string, change: (t: Record<string, WritableTensor>) => void): void {
  rewriteTensors(join(dir, 'model.safetensors'), change);
}

function rewriteTensors(file: string, change: (t: Record<string, WritableTensor>) => void): void {
  const r = SafetensorsReader.open(file);
  const tensors: Record<string, WritableTensor> = {};
  for (const n of r.names()) tensors[n] = { dtype: 'F32', shape: r.info(n).shape, data: r.readFloat32(n) };
  r.close();
  change(tensors);
  writeSafetensors(file, tensors, { format: 'pt' });
}

function editConfig(dir: string, change: (c: Record<string, unknown>) => void): void {
  const file = join(dir, 'config.json');
  const c = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
  change(c);
  writeFileSync(file, JSON.stringify(c));
}

function badModels(root: string, model: string): Record<string, string> {
  const at = (name: string, damage: (dir: string) => void) =>
    copy(model, join(root, `model-${name}`), damage);
  const weights = (dir: string) => join(dir, 'model.safetensors');
  return {
    'weights file is a folder': at('eisdir', (d) => {
      rmSync(weights(d));
      mkdirSync(weights(d));
    }),
    'hidden size changed in config': at('hidden', (d) => editConfig(d, (c) => (c.n_embd = 32))),
    'layer count changed in config': at('layers', (d) => editConfig(d, (c) => (c.n_layer = 2))),
    'a tensor transposed': at('transposed', (d) =>
      rewriteWeights(d, (t) => {
        const w = t['transformer.h.0.mlp.c_fc.weight'];
        w.shape = [...w.shape].reverse();
      }),
    ),
    'a tensor missing': at('missing-tensor', (d) =>
      rewriteWeights(d, (t) => delete t['transformer.h.0.attn.c_attn.weight']),
    ),
    'NaN weights': at('nan', (d) =>
      rewriteWeights(d, (t) => {
        (t['transformer.h.0.attn.c_attn.weight'].data as Float32Array).fill(NaN);
      }),
    ),
    'weights cut short': at('truncated', (d) => truncateSync(weights(d), 4000)),
    'no weights file': at('no-weights', (d) => rmSync(weights(d))),
    'config not JSON': at('config-json', (d) =>
      writeFileSync(join(d, 'config.json'), '{"model_type": "gpt2",'),
    ),
    'unsupported model_type': at('bert', (d) => editConfig(d, (c) => (c.model_type = 'bert'))),
    'weights file empty': at('empty-weights', (d) => writeFileSync(weights(d), '')),
  };
}

function badDatasets(root: string, dataset: string): Record<string, string> {
  const at = (name: string, damage: (dir: string) => void) =>
    copy(dataset, join(root, `dataset-${name}`), damage);
  const segment = (d: string, ext: string) =>
    join(
      d,
      readdirSync(d).find((f) => f.endsWith(ext))!,
    );
  return {
    'manifest not JSON': at('manifest', (d) => writeFileSync(join(d, 'manifest.json'), '{"version":')),
    'manifest of another shape': at('manifest-shape', (d) =>
      writeFileSync(join(d, 'manifest.json'), '[1, 2]'),
    ),
    'a segment missing': at('segment-missing', (d) => rmSync(segment(d, '.ids.u32'))),
    'a segment cut short': at('segment-cut', (d) => truncateSync(segment(d, '.ids.u32'), 6)),
    'weights segment missing': at('weights-missing', (d) => rmSync(segment(d, '.weights.u8'))),
  };
}

/** Resolves when `check` holds, polling; rejects after `ms` naming `what`. */
export async function until(check: () => boolean, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
