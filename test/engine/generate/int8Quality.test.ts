/**
 * The int8 decoder (the completion worker's default) against float32 on a trained model: the
 * repository's starter on real code it was not trained on (src/jobs). Teacher-forced over a few
 * windows, the int8 logits' held-out cross-entropy stays within 0.3% of float32's and their top
 * token is float32's at 95% of positions or more. Measured here: 0.01% and 97.7% (±127 weight
 * levels), 0.05% and 97.1% (±63, a CPU without VNNI); every scale 5% too large, a bug this guards
 * against, gives 0.65% and 91.6%.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { resolve } from 'node:path';
import { Decoder } from '../../../src/engine/generate/decoder';
import { loadModel } from '../../../src/engine/models';
import { tsFiles } from '../../../bench/quality/codeTuning';
import {
  codeWindows,
  crossEntropy,
  top1Agreement,
  windowLogits,
} from '../../../bench/quality/decoderAgreement';

const root = resolve(__dirname, '../../..');
const starter = resolve(root, 'models/starter');
const [WINDOWS, T] = [4, 128];

test('starter model: int8 decoder within 0.3% of float32 in held-out loss, same top token at ≥ 95% of positions', async () => {
  const windows = await codeWindows(starter, tsFiles(resolve(root, 'src/jobs')), WINDOWS, T);
  assert.equal(windows.length, WINDOWS);
  const model = loadModel(starter);
  const V = model.family.vocabSize(model.config);
  const fp32 = await windowLogits(await Decoder.fromModel(model, { dtype: 'fp32', threads: 2 }), windows);
  const int8 = await windowLogits(await Decoder.fromModel(model, { dtype: 'int8', threads: 2 }), windows);
  const [f, q] = [crossEntropy(fp32, windows, V), crossEntropy(int8, windows, V)];
  const agree = top1Agreement(int8, fp32, V);
  console.log(`held-out cross-entropy: fp32 ${f}, int8 ${q}; top-1 agreement ${agree}`);
  assert.ok(f < 8, `the starter predicts this code better than chance (ln 50304 = 10.8): ${f}`);
  assert.ok(Math.abs(q - f) / f < 0.003, `int8 ${q} vs fp32 ${f}`);
  assert.ok(agree >= 0.95, `top-1 agreement ${agree}`);
});
