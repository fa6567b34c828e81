import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeGpt2Model } from '../../../fixtures/tinyModel';
import { loadModel } from '../../../src/engine/models';
import type { TrainMode } from '../../../src/engine/models/params';
import { checkWholeModel } from '../models/wholeModel';

const MICRO = { nLayer: 2, nHead: 2, nEmbd: 8, nPositions: 8, vocabSize: 16 };

async function microModel() {
  const dir = mkdtempSync(join(tmpdir(), 'lt-gpt2-'));
  await writeGpt2Model(dir, MICRO, 3);
  return loadModel(dir);
}

const LORA = { r: 2, alpha: 4, targets: ['c_attn', 'c_proj', 'c_fc'], dropout: 0, rslora: false };

/** Whole-model check: analytic gradients of every trainable entry vs float64 central differences. */
async function checkGpt2(mode: TrainMode, sampleEvery: number) {
  return checkWholeModel(await microModel(), mode, sampleEvery, LORA);
}

test('whole GPT-2 model, LoRA: gradients of every A and B entry match float64 finite differences', async () => {
  const r = await checkGpt2('lora', 1);
  assert.ok(r.checked > 100);
});

test('whole GPT-2 model, full fine-tuning: sampled gradients of every weight match finite differences', async () => {
  const r = await checkGpt2('full', 7);
  assert.ok(r.checked > 100);
});
