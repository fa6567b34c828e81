// checkModelFolder on real folders: the hub layouts pass (with or without the base-model prefix),
// and each kind of broken folder is refused with one line that names what is wrong. Also the name
// resolution itself, and a full fine-tune of the official GPT-2 layout writing its weights back as
// save_pretrained does (prefixed, no mask buffers).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hubModel, writeHubModel } from '../../../fixtures/hubModels';
import { UserError } from '../../../src/engine/errors';
import {
  SafetensorsReader,
  writeSafetensors,
  type WritableTensor,
} from '../../../src/engine/formats/safetensors';
import { loadModel } from '../../../src/engine/models';
import { checkModelFolder, findNonFiniteWeight } from '../../../src/engine/models/check';
import { scoreIds } from '../../../src/engine/train/score';
import { train } from '../../../src/engine/train/trainer';
import { shortRun } from '../realLayouts/oneStep';

const tmp = mkdtempSync(join(tmpdir(), 'lt-check-'));
let n = 0;
function folder(id: string): string {
  const dir = join(tmp, `m${n++}`);
  writeHubModel(dir, hubModel(id), 2);
  return dir;
}

/** Rewrites model.safetensors through `edit` (tensors by their stored names). */
function editWeights(dir: string, edit: (t: Record<string, WritableTensor>) => void): void {
  const file = join(dir, 'model.safetensors');
  const r = SafetensorsReader.open(file);
  const tensors: Record<string, WritableTensor> = {};
  for (const name of r.names())
    tensors[name] = { dtype: 'F32', shape: r.info(name).shape, data: r.readFloat32(name) };
  r.close();
  edit(tensors);
  writeSafetensors(file, tensors, { format: 'pt' });
}

function refused(dir: string, ...parts: (string | RegExp)[]): void {
  assert.throws(
    () => checkModelFolder(dir),
    (err: unknown) => {
      assert.ok(err instanceof UserError, String(err));
      assert.ok(!err.message.includes('\n'), `one line: ${err.message}`);
      for (const p of parts)
        if (typeof p === 'string') assert.ok(err.message.includes(p), `"${p}" in: ${err.message}`);
        else assert.match(err.message, p);
      return true;
    },
  );
}

test('the official GPT-2 layout (no prefix, mask buffers) and the prefixed one both pass', () => {
  const official = checkModelFolder(folder('openai-community/gpt2'));
  assert.equal(official.prefixed, false);
  assert.equal(official.modelType, 'gpt2');
  assert.equal(official.tensors, 4 + 2 * 12); // wte, wpe, ln_f ×2, 12 per block
  assert.equal(checkModelFolder(folder('distilbert/distilgpt2')).prefixed, true);
});

test('a Llama checkpoint saved from the base model (no "model." prefix) loads the same weights', async () => {
  const prefixed = folder('HuggingFaceTB/SmolLM2-135M');
  const bare = join(tmp, 'smol-bare');
  writeHubModel(bare, hubModel('HuggingFaceTB/SmolLM2-135M'), 2);
  editWeights(bare, (t) => {
    for (const name of Object.keys(t)) {
      t[name.replace(/^model\./, '')] = t[name];
      delete t[name];
    }
  });
  assert.equal(checkModelFolder(bare).prefixed, false);
  const ids = [5, 9, 200, 31, 7, 1000, 12];
  assert.deepEqual(await scoreIds(loadModel(bare), ids), await scoreIds(loadModel(prefixed), ids));
});

test('an unknown family is refused, naming the supported ones', () => {
  const dir = folder('openai-community/gpt2');
  writeFileSync(join(dir, 'config.json'), JSON.stringify({ model_type: 'mamba', vocab_size: 10 }));
  refused(dir, 'model_type "mamba" is not supported', 'gpt2', 'llama');
});

test('a missing tensor is refused with its name and what the file holds', () => {
  const dir = folder('openai-community/gpt2');
  editWeights(dir, (t) => delete t['h.1.mlp.c_fc.bias']);
  refused(
    dir,
    'tensor "transformer.h.1.mlp.c_fc.bias" is missing',
    '"h.0.attn.c_attn.bias"',
    '(27 in all)',
    'model_type',
  );
});

test('an untied Llama without lm_head.weight is refused', () => {
  const dir = folder('TinyLlama/TinyLlama-1.1B-Chat-v1.0');
  editWeights(dir, (t) => delete t['lm_head.weight']);
  refused(dir, 'tensor "lm_head.weight" is missing');
});

test('a tensor whose shape the config does not imply is refused with both shapes', () => {
  const dir = folder('Qwen/Qwen2.5-Coder-0.5B');
  editWeights(dir, (t) => {
    t['model.layers.0.self_attn.k_proj.weight'] = {
      dtype: 'F32',
      shape: [8, 32],
      data: new Float32Array(256),
    };
  });
  refused(dir, 'model.safetensors: tensor "model.layers.0.self_attn.k_proj.weight"', '[8, 32]', '[16, 32]');
});

test('a config whose sizes do not match the weights is refused', () => {
  const dir = folder('bigcode/tiny_starcoder_py');
  const raw = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')) as Record<string, number>;
  writeFileSync(join(dir, 'config.json'), JSON.stringify({ ...raw, n_inner: raw.n_inner * 2 }));
  refused(dir, 'transformer.h.0.mlp.c_fc.weight', 'config.json implies [96, 32]');
});

test('a pickle-only checkpoint is refused without reading it', () => {
  const dir = folder('openai-community/gpt2');
  rmSync(join(dir, 'model.safetensors'));
  writeFileSync(join(dir, 'pytorch_model.bin'), 'not read');
  refused(dir, 'only a pickle checkpoint (pytorch_model.bin)', 'model.safetensors');
});

test('the finite-values scan names a tensor holding NaN; a clean folder has none', () => {
  const dir = folder('distilbert/distilgpt2');
  assert.equal(findNonFiniteWeight(dir), undefined);
  editWeights(dir, (t) => (t['transformer.h.1.attn.c_proj.weight'].data as Float32Array).fill(NaN, 3, 4));
  assert.equal(findNonFiniteWeight(dir), 'transformer.h.1.attn.c_proj.weight');
});

test('a full fine-tune of the official GPT-2 layout writes save_pretrained names back: prefixed, no buffers', async () => {
  const dir = folder('openai-community/gpt2');
  const model = loadModel(dir);
  const ids = Array.from({ length: 64 }, (_, i) => (i * 37) % 500);
  const out = join(tmp, 'full-run');
  const done = await train(
    shortRun(model, {
      baseModelName: 'openai-community/gpt2',
      ids,
      mode: 'full',
      steps: 1,
      lr: 1e-2,
      outDir: out,
    }),
  );
  const r = SafetensorsReader.open(join(done.finalDir, 'model.safetensors'));
  const written = r.names().sort();
  r.close();
  const expected = model.family
    .tensors(model.config)
    .map((t) => t.name)
    .sort();
  assert.deepEqual(written, expected);
  assert.ok(written.every((n) => n.startsWith('transformer.')));
  assert.ok(readdirSync(done.finalDir).includes('config.json'));
  assert.equal(checkModelFolder(done.finalDir).prefixed, true);
  const tuned = await scoreIds(loadModel(done.finalDir), ids.slice(0, 16));
  const base = await scoreIds(model, ids.slice(0, 16));
  assert.ok(
    tuned.some((v, i) => Math.abs(v - base[i]) > 1e-4),
    'the step changed the weights',
  );
});

test('a sharded folder (index + shards) is checked from the shard headers, and loads', async () => {
  const dir = folder('openai-community/gpt2');
  const single = join(dir, 'model.safetensors');
  const r = SafetensorsReader.open(single);
  const shards: Record<string, WritableTensor>[] = [{}, {}];
  const weightMap: Record<string, string> = {};
  r.names().forEach((name, i) => {
    shards[i % 2][name] = { dtype: 'F32', shape: r.info(name).shape, data: r.readFloat32(name) };
    weightMap[name] = `model-0000${(i % 2) + 1}-of-00002.safetensors`;
  });
  r.close();
  const ids = [11, 22, 33, 44, 55];
  const before = await scoreIds(loadModel(dir), ids);
  rmSync(single);
  shards.forEach((t, i) => writeSafetensors(join(dir, `model-0000${i + 1}-of-00002.safetensors`), t));
  writeFileSync(join(dir, 'model.safetensors.index.json'), JSON.stringify({ metadata: {}, weight_map: weightMap }));
  assert.equal(checkModelFolder(dir).prefixed, false);
  assert.deepEqual(await scoreIds(loadModel(dir), ids), before);
  rmSync(join(dir, 'model-00002-of-00002.safetensors'));
  assert.throws(() => checkModelFolder(dir), /shard "model-00002-of-00002.safetensors" listed in/);
});
