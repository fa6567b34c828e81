import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  STARCODER_SPECIAL_TOKENS,
  writeGptBigCodeModel,
  type GptBigCodeShape,
} from '../../../fixtures/tinyBigCode';
import { SafetensorsReader } from '../../../src/engine/formats/safetensors';
import { loadModel } from '../../../src/engine/models';
import { checkWholeModel, trainTiny } from './wholeModel';

const MICRO: GptBigCodeShape = { nLayer: 2, nHead: 4, nEmbd: 16, nPositions: 8, vocabSize: 16 };
const LORA = { r: 2, alpha: 4, targets: ['c_attn', 'c_proj', 'c_fc'], dropout: 0, rslora: false };

function tmp(): string {
  return mkdtempSync(join(tmpdir(), 'lt-bigcode-'));
}

test('GPTBigCode fixture: fused multi-query c_attn [C + 2D, C], nn.Linear layout, FIM tokens; loads as gpt_bigcode', () => {
  const dir = tmp();
  writeGptBigCodeModel(dir, { ...MICRO, vocabSize: undefined }, 3);
  const config = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8'));
  assert.equal(config.model_type, 'gpt_bigcode');
  assert.equal(config.multi_query, true);
  assert.equal(config.vocab_size, 50257 + STARCODER_SPECIAL_TOKENS.length);
  const tokConfig = JSON.parse(readFileSync(join(dir, 'tokenizer_config.json'), 'utf8'));
  assert.ok(tokConfig.additional_special_tokens.includes('<fim_prefix>'));
  const reader = SafetensorsReader.open(join(dir, 'model.safetensors'));
  assert.deepEqual(reader.info('transformer.h.0.attn.c_attn.weight').shape, [16 + 2 * 4, 16]);
  assert.deepEqual(reader.info('transformer.h.0.mlp.c_fc.weight').shape, [64, 16]); // [out, in]
  reader.close();
  const model = loadModel(dir);
  assert.equal(model.modelType, 'gpt_bigcode');
  assert.deepEqual(model.family.defaultLoraTargets, ['c_attn', 'c_proj', 'c_fc']);
  assert.equal(model.family.fanInFanOut, false);
  assert.equal(model.family.contextLength(model.config), 8);
});

test('whole GPTBigCode model, LoRA: every A and B entry matches float64 finite differences', async (t) => {
  const dir = tmp();
  writeGptBigCodeModel(dir, MICRO, 3, { extraSpecialTokens: [] });
  const r = await checkWholeModel(loadModel(dir), 'lora', 1, LORA);
  t.diagnostic(`worst relative error ${r.worst.toExponential(2)} over ${r.checked} entries`);
  assert.ok(r.checked > 500, `${r.checked} entries`);
  assert.equal(r.tensors.length, 2 * 4 * 2); // c_attn, attn.c_proj, c_fc, mlp.c_proj per layer
});

test('whole GPTBigCode model, full fine-tuning: sampled gradients of every weight match finite differences', async (t) => {
  const dir = tmp();
  writeGptBigCodeModel(dir, MICRO, 3, { extraSpecialTokens: [] });
  const r = await checkWholeModel(loadModel(dir), 'full', 7, LORA);
  t.diagnostic(`worst relative error ${r.worst.toExponential(2)} over ${r.checked} entries`);
  assert.ok(r.checked > 500, `${r.checked} entries`);
  assert.ok(r.tensors.includes('transformer.wpe.weight'));
});

test('config errors: multi_query false and an unknown activation are refused with the field named', () => {
  const dir = tmp();
  writeGptBigCodeModel(dir, MICRO, 1, { extraSpecialTokens: [] });
  const config = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8'));
  writeFileSync(join(dir, 'config.json'), JSON.stringify({ ...config, multi_query: false }));
  assert.throws(() => loadModel(dir), /multi_query false is not supported/);
  writeFileSync(join(dir, 'config.json'), JSON.stringify({ ...config, activation_function: 'relu' }));
  assert.throws(() => loadModel(dir), /activation_function "relu" is not supported/);
});

const TRAIN_SHAPE: GptBigCodeShape = { nLayer: 2, nHead: 4, nEmbd: 32, nPositions: 64, vocabSize: 58 };

for (const mode of ['lora', 'full'] as const) {
  test(`GPTBigCode, ${mode}: training on a regular corpus drives the loss far below ln V, and the tuned model scores it better`, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lt-bigcode-train-'));
    writeGptBigCodeModel(join(dir, 'base'), TRAIN_SHAPE, 5, { embeddingStd: 0.5 });
    const r = await trainTiny(loadModel(join(dir, 'base')), dir, mode);
    assert.ok(r.losses[0] > 0.8 * r.baseline, `first loss ${r.losses[0]} near ln V = ${r.baseline}`);
    assert.ok(r.losses[29] < 0.25 * r.baseline, `last loss ${r.losses[29]} far below ${r.baseline}`);
    assert.ok(r.after > r.before + 20, `tuned log-likelihood ${r.after} beats base ${r.before}`);
  });
}
