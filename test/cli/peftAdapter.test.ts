import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync, copyFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cli } from './capture';
import { writeGpt2Model } from '../../fixtures/tinyModel';
import {
  SafetensorsReader,
  writeSafetensors,
  type WritableTensor,
} from '../../src/engine/formats/safetensors';
import { loadAdapter } from '../../src/engine/formats/peft';
import { Rng } from '../../src/engine/rng';

const tmp = mkdtempSync(join(tmpdir(), 'lt-peft-'));
const C = 16;
const R = 4;
const ALPHA = 8;

const LAYERS = 2;

/** An adapter exactly as Python PEFT saves it: use_rslora, c_attn of every layer, PEFT key names. */
function writePeftAdapter(dir: string) {
  const rng = new Rng(21);
  const layers = Array.from({ length: LAYERS }, () => ({
    a: Float32Array.from({ length: R * C }, () => rng.normal() * 0.3), // lora_A [r, in]
    b: Float32Array.from({ length: 3 * C * R }, () => rng.normal() * 0.3), // lora_B [out, r]
  }));
  mkdirSync(dir, { recursive: true });
  const tensors: Record<string, WritableTensor> = {};
  layers.forEach(({ a, b }, i) => {
    const key = `base_model.model.transformer.h.${i}.attn.c_attn`;
    tensors[`${key}.lora_A.weight`] = { dtype: 'F32', shape: [R, C], data: a };
    tensors[`${key}.lora_B.weight`] = { dtype: 'F32', shape: [3 * C, R], data: b };
  });
  writeSafetensors(join(dir, 'adapter_model.safetensors'), tensors);
  writeFileSync(
    join(dir, 'adapter_config.json'),
    JSON.stringify({
      alpha_pattern: {},
      auto_mapping: null,
      base_model_name_or_path: 'org/base',
      bias: 'none',
      fan_in_fan_out: true,
      inference_mode: true,
      init_lora_weights: true,
      lora_alpha: ALPHA,
      lora_dropout: 0.0,
      modules_to_save: null,
      peft_type: 'LORA',
      r: R,
      rank_pattern: {},
      revision: null,
      target_modules: ['c_attn'],
      task_type: 'CAUSAL_LM',
      use_dora: false,
      use_rslora: true,
    }),
  );
  return layers;
}

test('a PEFT-written adapter (use_rslora) changes the scores exactly as W + (alpha/sqrt(r))·B·A predicts', async () => {
  const base = join(tmp, 'base');
  await writeGpt2Model(base, { nLayer: LAYERS, nHead: 2, nEmbd: C, nPositions: 32 }, 4);
  const layers = writePeftAdapter(join(tmp, 'adapter'));

  // The prediction, computed by hand: a model folder whose c_attn weight has the update merged in.
  const merged = join(tmp, 'merged');
  mkdirSync(merged);
  for (const f of ['config.json', 'tokenizer.json', 'tokenizer_config.json', 'generation_config.json'])
    copyFileSync(join(base, f), join(merged, f));
  const reader = SafetensorsReader.open(join(base, 'model.safetensors'));
  const tensors: Record<string, WritableTensor> = {};
  const scale = ALPHA / Math.sqrt(R); // rsLoRA
  for (const name of reader.names()) {
    const data = reader.readFloat32(name);
    const shape = reader.info(name).shape;
    const layer = /^transformer\.h\.(\d+)\.attn\.c_attn\.weight$/.exec(name);
    if (layer) {
      const { a, b } = layers[Number(layer[1])];
      // Conv1D stores [in, out]: W[i][o] += scale · Σ_k B[o][k]·A[k][i]
      for (let i = 0; i < C; i++)
        for (let o = 0; o < 3 * C; o++) {
          let s = 0;
          for (let k = 0; k < R; k++) s += b[o * R + k] * a[k * C + i];
          data[i * 3 * C + o] += scale * s;
        }
    }
    tensors[name] = { dtype: 'F32', shape, data };
  }
  reader.close();
  writeSafetensors(join(merged, 'model.safetensors'), tensors);

  const ids = '5,99,1000,17,256,3,42,7,8000,12';
  const withAdapter = await cli(
    'score',
    '--model',
    base,
    '--adapter',
    join(tmp, 'adapter'),
    '--ids',
    ids,
    '--json',
  );
  const predicted = await cli('score', '--model', merged, '--ids', ids, '--json');
  const plain = await cli('score', '--model', base, '--ids', ids, '--json');
  assert.equal(withAdapter.code, 0, withAdapter.err.join('\n'));
  const got = JSON.parse(withAdapter.out[0]).logprobs as number[];
  const want = JSON.parse(predicted.out[0]).logprobs as number[];
  const before = JSON.parse(plain.out[0]).logprobs as number[];
  got.forEach((v, i) =>
    assert.ok(Math.abs(v - want[i]) < 1e-4, `logprob ${i}: ${v} vs predicted ${want[i]}`),
  );
  assert.ok(
    got.some((v, i) => Math.abs(v - before[i]) > 1e-2),
    'the adapter changes the scores',
  );
});

test('train --adapter continues LoRA training from a PEFT adapter, keeping its settings', async () => {
  const base = join(tmp, 'base');
  const corpus = join(tmp, 'corpus.txt');
  writeFileSync(corpus, 'for i in range(10):\n    print(i)\n'.repeat(80));
  const out = join(tmp, 'continued');
  const r = await cli(
    'train',
    '--model',
    base,
    '--data',
    corpus,
    '--adapter',
    join(tmp, 'adapter'),
    '--steps',
    '2',
    '--lr',
    '1e-3',
    '--seq-len',
    '16',
    '--batch-tokens',
    '32',
    '--out',
    out,
  );
  assert.equal(r.code, 0, r.err.join('\n'));
  const config = JSON.parse(readFileSync(join(out, 'adapter', 'adapter_config.json'), 'utf8'));
  assert.equal(config.r, R);
  assert.equal(config.lora_alpha, ALPHA);
  assert.equal(config.use_rslora, true);
  assert.deepEqual(config.target_modules, ['c_attn']);
  const start = loadAdapter(join(tmp, 'adapter')).values;
  const end = loadAdapter(join(out, 'adapter')).values;
  assert.deepEqual([...end.keys()].sort(), [...start.keys()].sort());
  const bStart = start.get('transformer.h.0.attn.c_attn.lora_B.weight')!.data;
  const bEnd = end.get('transformer.h.0.attn.c_attn.lora_B.weight')!.data;
  const maxChange = Math.max(...bEnd.map((v, i) => Math.abs(v - bStart[i])));
  assert.ok(
    maxChange > 0 && maxChange < 0.05,
    `B moved from the adapter's values, not from zero (max change ${maxChange})`,
  );
});

test('--adapter with full fine-tuning or with --resume is refused', async () => {
  const corpus = join(tmp, 'corpus.txt');
  const full = await cli(
    'train',
    '--model',
    join(tmp, 'base'),
    '--data',
    corpus,
    '--adapter',
    join(tmp, 'adapter'),
    '--mode',
    'full',
  );
  assert.equal(full.code, 2);
  assert.match(full.err.at(-1)!, /--adapter continues LoRA training/);
});
