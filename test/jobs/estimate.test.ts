// The pre-flight estimate: a real calibration (three timed steps of a tiny GPT-2 through the
// trainer, one evaluation) gives positive step and setup times and the data's token counts; the
// estimate counts steps and epochs the way the trainer plans them, adds evaluations, and warns when
// the dataset is too small for the steps asked or the memory exceeds the machine's; the cache keys
// on the model and shape, not on steps or learning rate.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeGpt2Model } from '../../fixtures/tinyModel';
import {
  cacheCalibration,
  cachedCalibration,
  calibrate,
  calibrationKey,
  estimateRun,
  type Calibration,
} from '../../src/jobs/estimate';
import type { TrainSpec } from '../../src/jobs/trainSpec';

const tmp = mkdtempSync(join(tmpdir(), 'lt-estimate-'));
const modelDir = join(tmp, 'model');
const textFile = join(tmp, 'corpus.txt');

test.before(async () => {
  await writeGpt2Model(modelDir, { nLayer: 1, nHead: 2, nEmbd: 16, nPositions: 32 }, 1);
  const lines = Array.from({ length: 3000 }, (_, i) => `function f${i}(x) { return x * ${i} + ${i % 7}; }`);
  writeFileSync(textFile, lines.join('\n'));
});

const spec = (extra: Partial<TrainSpec> = {}): TrainSpec => ({
  modelDir,
  data: [textFile],
  mode: 'lora',
  steps: 40,
  batchTokens: 64,
  seqLen: 16,
  microBatchTokens: 64,
  evalEvery: 10,
  evalTokens: 128,
  threads: 1,
  outDir: join(tmp, 'unused'),
  ...extra,
});

const GiB = 2 ** 30;
const cal = (extra: Partial<Calibration> = {}): Calibration => ({
  key: 'k',
  stepSeconds: 0.5,
  setupSeconds: 3,
  evalSeconds: 0.2,
  peakBytes: 1 * GiB,
  trainTokens: 16_001,
  validationTokens: 1000,
  seqLen: 16,
  measuredAt: '',
  ...extra,
});

test('a real calibration times steps of the actual model and reads the data as the trainer does', async () => {
  const c = await calibrate(spec());
  assert.ok(c.stepSeconds > 0 && c.setupSeconds >= 0 && c.evalSeconds > 0);
  assert.ok(c.peakBytes > 10 * 2 ** 20);
  assert.ok(c.trainTokens > 20_000, `train tokens ${c.trainTokens}`);
  assert.ok(c.validationTokens > 0, 'plain files this long hold out a tail');
  assert.equal(c.seqLen, 16);
  assert.equal(c.key, calibrationKey(spec()));
});

test('steps, epochs and time: setup + steps × step time + the first evaluation as measured + forward-only later ones', () => {
  const e = estimateRun(spec({ steps: 40, evalEvery: 10 }), cal(), { total: 16 * GiB, free: 8 * GiB });
  assert.equal(e.steps, 40);
  // 1000 windows of 16; 4 rows a step: 40 steps = 160 windows = 0.16 epochs
  assert.ok(Math.abs(e.epochs - 0.16) < 1e-9);
  // the first evaluation as measured (it builds its session), 3 more forward-only: 128/64 × 0.5 / 3
  assert.ok(Math.abs(e.seconds - (3 + 40 * 0.5 + 0.2 + (3 * (128 / 64) * 0.5) / 3)) < 1e-9);
  assert.deepEqual(e.warnings, []);
  const byEpochs = estimateRun(spec({ steps: undefined, epochs: 2 }), cal(), {
    total: 16 * GiB,
    free: 8 * GiB,
  });
  assert.equal(byEpochs.steps, 500);
});

test('warns when the dataset is too small for the steps, and when memory exceeds the machine', () => {
  const small = estimateRun(spec({ steps: 5000 }), cal(), { total: 16 * GiB, free: 8 * GiB });
  assert.match(small.warnings.join('\n'), /too small for 5000 steps: 20\.0 passes/);
  const big = estimateRun(spec(), cal({ peakBytes: 15 * GiB }), { total: 16 * GiB, free: 8 * GiB });
  assert.match(big.warnings.join('\n'), /this machine has 16\.0 GiB/);
  const busy = estimateRun(spec(), cal({ peakBytes: 6 * GiB }), { total: 16 * GiB, free: 4 * GiB });
  assert.match(busy.warnings.join('\n'), /4\.0 GiB is free now/);
  const noHeldOut = estimateRun(spec(), cal({ validationTokens: 0 }), { total: 16 * GiB, free: 8 * GiB });
  assert.match(noHeldOut.warnings.join('\n'), /no held-out split/);
});

test('the cache keys on model and shape: steps and learning rate share a calibration, rank does not', () => {
  assert.equal(calibrationKey(spec({ steps: 10, lr: 1e-3 })), calibrationKey(spec({ steps: 99 })));
  assert.notEqual(calibrationKey(spec({ loraR: 4 })), calibrationKey(spec({ loraR: 16 })));
  const file = join(tmp, 'estimates.json');
  assert.equal(cachedCalibration(file, 'a'), undefined);
  cacheCalibration(file, cal({ key: 'a' }));
  cacheCalibration(file, cal({ key: 'b', stepSeconds: 2 }));
  assert.equal(cachedCalibration(file, 'a')?.stepSeconds, 0.5);
  assert.equal(cachedCalibration(file, 'b')?.stepSeconds, 2);
});
