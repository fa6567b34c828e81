import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { QWEN2_SPECIAL_TOKENS, writeLlamaModel, type LlamaShape } from '../../../fixtures/tinyLlama';
import { SafetensorsReader } from '../../../src/engine/formats/safetensors';
import { loadModel } from '../../../src/engine/models';
import type { LlamaConfig } from '../../../src/engine/models/llama';
import { checkWholeModel, LLAMA_LORA, LLAMA_MICRO, LLAMA_TRAIN, trainTiny } from './wholeModel';

const MICRO = LLAMA_MICRO;
const LORA = LLAMA_LORA;

function tmp(): string {
  return mkdtempSync(join(tmpdir(), 'lt-qwen2-'));
}

test('Qwen2 fixture: q/k/v biases, tied head, FIM tokens; loads as qwen2 with the Llama LoRA targets', () => {
  const dir = tmp();
  writeLlamaModel(dir, { ...MICRO, vocabSize: undefined }, 3, { modelType: 'qwen2' });
  const config = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8'));
  assert.equal(config.model_type, 'qwen2');
  assert.equal(config.tie_word_embeddings, true);
  assert.equal(config.vocab_size, 50257 + QWEN2_SPECIAL_TOKENS.length);
  const tokConfig = JSON.parse(readFileSync(join(dir, 'tokenizer_config.json'), 'utf8'));
  assert.ok(tokConfig.additional_special_tokens.includes('<|fim_middle|>'));
  const reader = SafetensorsReader.open(join(dir, 'model.safetensors'));
  assert.deepEqual(reader.info('model.layers.0.self_attn.k_proj.bias').shape, [8]);
  assert.ok(!reader.names().includes('lm_head.weight'));
  assert.ok(!reader.names().includes('model.layers.0.self_attn.o_proj.bias'));
  reader.close();
  const model = loadModel(dir);
  const cfg = model.config as LlamaConfig;
  assert.equal(model.modelType, 'qwen2');
  assert.equal(cfg.qkvBias, true);
  assert.equal(cfg.oBias, false);
  assert.equal(cfg.ropeTheta, 1000000);
  assert.deepEqual(model.family.defaultLoraTargets, LORA.targets);
  assert.equal(model.family.fanInFanOut, false);
});

test('whole Qwen2 model, LoRA: every A and B entry matches float64 finite differences', async (t) => {
  const dir = tmp();
  writeLlamaModel(dir, MICRO, 3, { modelType: 'qwen2', extraSpecialTokens: [] });
  const r = await checkWholeModel(loadModel(dir), 'lora', 1, LORA);
  t.diagnostic(`worst relative error ${r.worst.toExponential(2)} over ${r.checked} entries`);
  assert.ok(r.checked > 900, `${r.checked} entries`);
});

test('whole Qwen2 model, full fine-tuning: sampled gradients of every weight (biases included) match finite differences', async (t) => {
  const dir = tmp();
  writeLlamaModel(dir, MICRO, 3, { modelType: 'qwen2', extraSpecialTokens: [] });
  const r = await checkWholeModel(loadModel(dir), 'full', 7, LORA);
  t.diagnostic(`worst relative error ${r.worst.toExponential(2)} over ${r.checked} entries`);
  assert.ok(r.checked > 500, `${r.checked} entries`);
  assert.ok(r.tensors.includes('model.layers.1.self_attn.v_proj.bias'));
});

const TRAIN_SHAPE: LlamaShape = { ...LLAMA_TRAIN, vocabSize: 56 };

for (const mode of ['lora', 'full'] as const) {
  test(`Qwen2, ${mode}: training on a regular corpus drives the loss far below ln V, and the tuned model scores it better`, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lt-qwen2-train-'));
    writeLlamaModel(join(dir, 'base'), TRAIN_SHAPE, 5, {
      modelType: 'qwen2',
      embeddingStd: 0.5,
      initStd: 0.2,
    });
    const r = await trainTiny(loadModel(join(dir, 'base')), dir, mode);
    assert.ok(r.losses[0] > 0.8 * r.baseline, `first loss ${r.losses[0]} near ln V = ${r.baseline}`);
    assert.ok(r.losses[29] < 0.25 * r.baseline, `last loss ${r.losses[29]} far below ${r.baseline}`);
    assert.ok(r.after > r.before + 20, `tuned log-likelihood ${r.after} beats base ${r.before}`);
  });
}
