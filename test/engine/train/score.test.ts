import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeGpt2Model } from '../../../fixtures/tinyModel';
import { writeLlamaModel } from '../../../fixtures/tinyLlama';
import type { LoraSettings } from '../../../src/engine/formats/peft';
import { LLAMA_LORA, LLAMA_TRAIN } from '../models/wholeModel';
import { loadModel } from '../../../src/engine/models';
import { buildLmGraph } from '../../../src/engine/train/lmGraph';
import { scoreIds } from '../../../src/engine/train/score';
import { loadAdapter, saveAdapter } from '../../../src/engine/formats/peft';
import { SafetensorsReader } from '../../../src/engine/formats/safetensors';
import { createSession, toOrt } from '../../../src/engine/onnx/session';
import { Rng } from '../../../src/engine/rng';

const SHAPE = { nLayer: 2, nHead: 4, nEmbd: 32, nPositions: 64, vocabSize: 300 };
const LORA = { r: 4, alpha: 8, targets: ['c_attn', 'c_proj', 'c_fc'], dropout: 0, rslora: false };

async function fixture() {
  const dir = mkdtempSync(join(tmpdir(), 'lt-score-'));
  await writeGpt2Model(join(dir, 'base'), SHAPE, 2);
  return { dir, model: loadModel(join(dir, 'base')) };
}

function llamaFixture() {
  const dir = mkdtempSync(join(tmpdir(), 'lt-score-llama-'));
  writeLlamaModel(join(dir, 'base'), { ...LLAMA_TRAIN, vocabSize: 64 }, 3, { initStd: 0.2 });
  return { dir, model: loadModel(join(dir, 'base')), lora: LLAMA_LORA };
}

/** LoRA values with non-zero B, so the adapter changes the model. */
function randomAdapterValues(model: ReturnType<typeof loadModel>, lora: LoraSettings = LORA) {
  const rng = new Rng(4);
  const { trainables } = buildLmGraph(model, { mode: 'lora', lora, withGradients: false });
  return new Map(
    trainables.map((t) => [
      t.name,
      Float32Array.from(t.initial, (v) => (t.name.includes('lora_B') ? rng.normal() * 0.2 : v)),
    ]),
  );
}

// Training graphs attend in two blocks of query positions (models/attention.ts, causalBlocks); the
// score graph with one causal mask. Even and odd lengths, the shortest a run allows (blocks of one
// position each), and grouped-query attention (Llama: 2 query heads per key/value head).
const LENGTHS = [40, 7, 2];
for (const family of ['gpt2', 'llama'] as const)
  for (const length of LENGTHS)
    test(`${family}, ${length} tokens: the training graph's loss equals the forward-only score graph's loss on the same batch (1e-5)`, async () => {
      const { model, lora } = family === 'gpt2' ? { ...(await fixture()), lora: LORA } : llamaFixture();
      const values = randomAdapterValues(model, lora);
      const { graph, trainables } = buildLmGraph(model, {
        mode: 'lora',
        lora,
        loraValues: values,
        withGradients: true,
      });
      const session = await createSession(graph.toBytes());
      const rng = new Rng(9);
      const vocab = model.family.vocabSize(model.config);
      const ids = Array.from({ length: length + 1 }, () => rng.nextInt(vocab));
      const n = ids.length - 1;
      const out = await session.run({
        input_ids: toOrt('int64', BigInt64Array.from(ids.slice(0, n), BigInt), [1, n]),
        labels: toOrt('int64', BigInt64Array.from(ids.slice(1), BigInt), [1, n]),
        loss_weights: toOrt('float32', new Float32Array(n).fill(1), [1, n]),
        loss_scale: toOrt('float32', Float32Array.of(1 / n), []),
        ...Object.fromEntries(
          trainables.map((t) => [t.name, toOrt('float32', values.get(t.name)!, t.shape)]),
        ),
      });
      const trainLoss = (out.loss.data as Float32Array)[0];
      const adapter = {
        settings: lora,
        baseModel: 'base',
        values: new Map(
          [...values].map(([k, v]) => [k, { data: v, shape: trainables.find((t) => t.name === k)!.shape }]),
        ),
      };
      const logprobs = await scoreIds(model, ids, { adapter });
      assert.equal(logprobs.length, n);
      const scoreLoss = -logprobs.reduce((a, b) => a + b, 0) / n;
      assert.ok(Math.abs(trainLoss - scoreLoss) < 1e-5, `train ${trainLoss} vs score ${scoreLoss}`);
      const baseLoss = -(await scoreIds(model, ids)).reduce((a, b) => a + b, 0) / n;
      assert.ok(Math.abs(baseLoss - scoreLoss) > 1e-3, 'the adapter changes the scores');
    });

test('adapter save → load round trip keeps PEFT names, shapes, settings and values; scores are unchanged', async () => {
  const { dir, model } = await fixture();
  const values = randomAdapterValues(model);
  const { trainables } = buildLmGraph(model, { mode: 'lora', lora: LORA, withGradients: false });
  const shapes = new Map(trainables.map((t) => [t.name, t.shape]));
  const adapter = {
    settings: LORA,
    baseModel: 'org/base',
    values: new Map([...values].map(([k, v]) => [k, { data: v, shape: shapes.get(k)! }])),
  };
  saveAdapter(join(dir, 'adapter'), adapter, { fanInFanOut: true });
  const raw = SafetensorsReader.open(join(dir, 'adapter', 'adapter_model.safetensors'));
  assert.ok(raw.has('base_model.model.transformer.h.1.mlp.c_fc.lora_A.weight'), 'PEFT key names on disk');
  raw.close();
  const config = JSON.parse(readFileSync(join(dir, 'adapter', 'adapter_config.json'), 'utf8'));
  assert.equal(config.peft_type, 'LORA');
  assert.equal(config.task_type, 'CAUSAL_LM');
  assert.equal(config.fan_in_fan_out, true);
  assert.equal(config.bias, 'none');
  const loaded = loadAdapter(join(dir, 'adapter'));
  assert.deepEqual(loaded.settings, LORA);
  assert.equal(loaded.baseModel, 'org/base');
  assert.deepEqual([...loaded.values.keys()].sort(), [...values.keys()].sort());
  const a0 = loaded.values.get('transformer.h.0.attn.c_attn.lora_A.weight')!;
  assert.deepEqual(a0.shape, [4, 32]); // PEFT: lora_A [r, in]
  assert.deepEqual(loaded.values.get('transformer.h.0.attn.c_attn.lora_B.weight')!.shape, [96, 4]); // lora_B [out, r]
  for (const [k, v] of values) assert.deepEqual(loaded.values.get(k)!.data, v);
  const ids = [5, 17, 200, 3, 99, 42];
  assert.deepEqual(await scoreIds(model, ids, { adapter: loaded }), await scoreIds(model, ids, { adapter }));
});
