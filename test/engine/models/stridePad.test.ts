import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeGpt2Model } from '../../../fixtures/tinyModel';
import { loadModel } from '../../../src/engine/models';
import { stridePad } from '../../../src/engine/models/common';
import { createSession, toOrt } from '../../../src/engine/onnx/session';
import { buildLmGraph } from '../../../src/engine/train/lmGraph';
import { checkWholeModel } from './wholeModel';
import { toStored } from '../../../src/engine/models/layout';

// nEmbd 256: the MLP's inner width 1024 is 4 KiB of float32, so training graphs pad it.
const PADDED = { nLayer: 1, nHead: 2, nEmbd: 256, nPositions: 8, vocabSize: 16 };
const LORA = { r: 2, alpha: 4, targets: ['c_attn', 'c_proj', 'c_fc'], dropout: 0, rslora: false };

function paddedModel() {
  const dir = mkdtempSync(join(tmpdir(), 'lt-pad-'));
  return writeGpt2Model(dir, PADDED, 5).then(() => loadModel(dir));
}

test('stridePad widens rows that are a multiple of 4 KiB apart, and only those', () => {
  assert.equal(stridePad(3072), 16);
  assert.equal(stridePad(1024), 16);
  assert.equal(stridePad(768), 0);
  assert.equal(stridePad(2304), 0);
  assert.equal(stridePad(1536), 0);
});

test('a padded training graph computes the loss of the unpadded scoring graph', async () => {
  const model = await paddedModel();
  const train = buildLmGraph(model, { mode: 'full', lora: LORA, withGradients: true });
  const widths = train.graph.nodes.flatMap((n) => n.outputs.map((o) => o.shape.at(-1)));
  assert.ok(widths.includes(1024 + 16), 'the inner activation is padded');
  // A full fine-tune holds the padded weights as its trainables; files keep HF shapes.
  const padded = Object.fromEntries(train.trainables.filter((t) => t.padded).map((t) => [t.name, t.shape]));
  assert.deepEqual(padded, {
    'transformer.h.0.mlp.c_fc.weight': [256, 1024 + 16],
    'transformer.h.0.mlp.c_fc.bias': [1024 + 16],
    'transformer.h.0.mlp.c_proj.weight': [1024 + 16, 256],
  });
  for (const t of train.trainables)
    assert.deepEqual(toStored(t, t.initial).data, model.weights.read(t.name).data, `${t.name} as stored`);
  const padding = (op: string) =>
    train.graph.nodes.filter((n) => n.op === op && [...n.inputs, ...n.outputs].some((t) => t?.shape.includes(16)));
  assert.deepEqual(padding('Concat'), [], 'no weight is padded by the graph');
  assert.deepEqual(padding('Split'), [], 'no gradient is split from its padding');
  const score = buildLmGraph(model, { mode: 'frozen', lora: LORA, withGradients: false });
  const [B, T] = [2, 8];
  const ids = BigInt64Array.from({ length: B * T }, (_, i) => BigInt((i * 5) % 16));
  const feeds = {
    input_ids: toOrt('int64', ids, [B, T]),
    labels: toOrt(
      'int64',
      ids.map((x) => (x + 1n) % 16n),
      [B, T],
    ),
    loss_weights: toOrt('float32', new Float32Array(B * T).fill(1), [B, T]),
    loss_scale: toOrt('float32', Float32Array.of(1 / (B * T)), []),
  };
  const trainSession = await createSession(train.graph.toBytes(), { threads: 1 });
  const scoreSession = await createSession(score.graph.toBytes(), { threads: 1 });
  const weights = Object.fromEntries(
    train.trainables.map((t) => [t.name, toOrt('float32', t.initial, t.shape)]),
  );
  const trained = (await trainSession.run({ ...feeds, ...weights })).loss.data as Float32Array;
  const scored = (await scoreSession.run(feeds)).loss.data as Float32Array;
  assert.ok(Math.abs(trained[0] - scored[0]) < 1e-5, `${trained[0]} vs ${scored[0]}`);
});

test('padded MLP, LoRA: gradients of A and B (padded inside the graph) match float64 finite differences', async (t) => {
  const r = await checkWholeModel(await paddedModel(), 'lora', 3, LORA);
  t.diagnostic(`worst relative error ${r.worst.toExponential(2)} over ${r.checked} entries`);
  assert.ok(r.tensors.includes('transformer.h.0.mlp.c_fc.lora_B.weight'));
  assert.ok(r.tensors.includes('transformer.h.0.mlp.c_proj.lora_A.weight'));
  assert.ok(r.checked > 500, `${r.checked} entries`);
});

test('padded MLP, full fine-tuning: sampled gradients of every weight match float64 finite differences', async (t) => {
  const r = await checkWholeModel(await paddedModel(), 'full', 1009, LORA);
  t.diagnostic(`worst relative error ${r.worst.toExponential(2)} over ${r.checked} entries`);
  assert.ok(r.tensors.includes('transformer.h.0.mlp.c_fc.weight'));
  assert.ok(r.checked > 500, `${r.checked} entries`);
});
