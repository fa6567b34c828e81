import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeGpt2Model } from '../../../fixtures/tinyModel';
import { loadModel } from '../../../src/engine/models';
import type { TrainMode } from '../../../src/engine/models/params';
import { checkWholeModel } from '../models/wholeModel';
import { buildLmGraph, vocabSlices } from '../../../src/engine/train/lmGraph';

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

test('vocabSlices: ~2,000 columns each, covering the vocabulary, none 4 KiB of float32 wide', () => {
  assert.deepEqual(vocabSlices(64), [64]);
  for (const vocab of [2001, 4100, 49152, 50257, 151936]) {
    const slices = vocabSlices(vocab);
    assert.equal(
      slices.reduce((a, b) => a + b, 0),
      vocab,
    );
    assert.ok(
      slices.length > 1 && slices.every((w) => w <= 2001 && (w * 4) % 4096 !== 0),
      `${vocab}: ${slices}`,
    );
  }
});

test('full fine-tuning with the softmax in vocabulary slices: sampled gradients match finite differences', async (t) => {
  // 4,100 tokens: three slices, so the sliced head (Split, Exp per slice, Concat) is what runs.
  const dir = mkdtempSync(join(tmpdir(), 'lt-gpt2-'));
  await writeGpt2Model(dir, { nLayer: 1, nHead: 2, nEmbd: 8, nPositions: 8, vocabSize: 4100 }, 3);
  const model = loadModel(dir);
  const { graph } = buildLmGraph(model, { mode: 'full', lora: LORA, withGradients: true });
  assert.equal(graph.nodes.filter((n) => n.op === 'Exp').length, 3);
  const r = await checkWholeModel(model, 'full', 97, LORA);
  t.diagnostic(`worst relative error ${r.worst.toExponential(2)} over ${r.checked} entries`);
  assert.ok(r.tensors.includes('transformer.wte.weight'));
  assert.ok(r.checked > 300, `${r.checked} entries`);
});
