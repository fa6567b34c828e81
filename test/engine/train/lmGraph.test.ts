import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeGpt2Model } from '../../../src/engine/io/tinyModel';
import { loadModel } from '../../../src/engine/models';
import { buildLmGraph } from '../../../src/engine/train/lmGraph';
import { createSession, toOrt } from '../../../src/engine/onnx/session';
import { Rng } from '../../../src/engine/rng';
import type { TrainMode } from '../../../src/engine/models/params';

const MICRO = { nLayer: 2, nHead: 2, nEmbd: 8, nPositions: 8, vocabSize: 16 };

async function microModel() {
  const dir = mkdtempSync(join(tmpdir(), 'lt-gpt2-'));
  await writeGpt2Model(dir, MICRO, 3);
  return loadModel(dir);
}

/** Whole-model check: analytic gradients of every trainable entry vs float64 central differences. */
async function checkWholeModel(mode: TrainMode, sampleEvery: number) {
  const model = await microModel();
  const rng = new Rng(11);
  const lora = { r: 2, alpha: 4, targets: ['c_attn', 'c_proj', 'c_fc'], dropout: 0, rslora: false };
  // Non-zero B so that A's gradient is not trivially zero.
  const probe = buildLmGraph(model, { mode, lora, dtype: 'float64', withGradients: false });
  const loraValues = new Map(
    probe.trainables.map((t) => [
      t.name,
      Float32Array.from(t.initial, (v) => (t.name.includes('lora_B') ? rng.normal() * 0.1 : v)),
    ]),
  );
  const { graph, trainables } = buildLmGraph(model, {
    mode,
    lora,
    dtype: 'float64',
    withGradients: true,
    loraValues,
  });
  const session = await createSession(graph.toBytes(), { threads: 1 });
  const [B, T] = [2, 5];
  const ids = BigInt64Array.from({ length: B * T }, () => BigInt(rng.nextInt(16)));
  const labels = BigInt64Array.from({ length: B * T }, () => BigInt(rng.nextInt(16)));
  const w = Float64Array.from({ length: B * T }, (_, i) => (i % 3 === 0 ? 0 : 1));
  const values = trainables.map((t) => Float64Array.from(t.initial));
  const feeds = () => ({
    input_ids: toOrt('int64', ids, [B, T]),
    labels: toOrt('int64', labels, [B, T]),
    loss_weights: toOrt('float64', w, [B, T]),
    loss_scale: toOrt('float64', Float64Array.of(1 / 7), []),
    ...Object.fromEntries(trainables.map((t, k) => [t.name, toOrt('float64', values[k], t.shape)])),
  });
  const out = await session.run(feeds());
  const loss = async () => ((await session.run(feeds())).loss.data as Float64Array)[0];
  let worst = 0;
  let checked = 0;
  const h = 1e-6;
  for (let k = 0; k < trainables.length; k++) {
    const analytic = out[`grad.${trainables[k].name}`].data as Float64Array;
    for (let j = k % sampleEvery; j < values[k].length; j += sampleEvery) {
      const keep = values[k][j];
      values[k][j] = keep + h;
      const up = await loss();
      values[k][j] = keep - h;
      const down = await loss();
      values[k][j] = keep;
      const numeric = (up - down) / (2 * h);
      const err = Math.abs(numeric - analytic[j]) / Math.max(1e-3, Math.abs(numeric));
      worst = Math.max(worst, err);
      checked++;
      assert.ok(err < 1e-5, `${trainables[k].name}[${j}]: analytic ${analytic[j]} numeric ${numeric}`);
    }
  }
  return { worst, checked };
}

test('whole GPT-2 model, LoRA: gradients of every A and B entry match float64 finite differences', async () => {
  const r = await checkWholeModel('lora', 1);
  assert.ok(r.checked > 100);
});

test('whole GPT-2 model, full fine-tuning: sampled gradients of every weight match finite differences', async () => {
  const r = await checkWholeModel('full', 7);
  assert.ok(r.checked > 100);
});
