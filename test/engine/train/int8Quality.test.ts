/**
 * The quality guard of LoRA on an int8 frozen base, with a looser margin than the benchmark's 1%
 * (bench/quality/int8.ts): the repository's starter model tuned on real code (src/engine) from the
 * same seed with the base in float32 and in int8; the held-out loss on other code (src/jobs),
 * scored on the float32 base, must be within 3%, and the int8 run must keep 80% of the fp32 run's
 * gain over the untuned base (one step at learning rate 0).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { resolve } from 'node:path';
import { codeStreams, tsFiles, tuneOnCode } from '../../../bench/quality/codeTuning';

const root = resolve(__dirname, '../../..');
const starter = resolve(root, 'models/starter');
const SETTINGS = { steps: 8, batchTokens: 1024, seqLen: 128, lr: 1e-3, evalTokens: 2048, threads: 2 };

test('starter model on real code: held-out loss with an int8 base within 3% of the fp32 base', async () => {
  const streams = await codeStreams(
    starter,
    tsFiles(resolve(root, 'src/engine')),
    tsFiles(resolve(root, 'src/jobs')),
  );
  const base = await tuneOnCode(starter, 'fp32', streams, SETTINGS, { steps: 1, lr: 0 });
  const fp32 = await tuneOnCode(starter, 'fp32', streams, SETTINGS);
  const int8 = await tuneOnCode(starter, 'int8', streams, SETTINGS);
  const [b, f, q] = [base.heldOutLoss, fp32.heldOutLoss, int8.heldOutLoss];
  console.log(
    `held-out loss: base ${b}, fp32 base ${f}, int8 base ${q} (${(((q - f) / f) * 100).toFixed(2)}%)`,
  );
  assert.ok(Math.abs(q - f) / f < 0.03, `int8 ${q} vs fp32 ${f}`);
  assert.ok(b - f > 0.01, `the fp32 run learns: ${b} -> ${f}`);
  // Measured: 97.6% of the gain kept; with the head's input gradient in int8, 56%.
  assert.ok(b - q > 0.8 * (b - f), `the int8 run keeps at least 80% of the gain: ${b} -> ${q}`);
});
