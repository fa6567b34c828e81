// The pre-flight estimate: a real calibration (five steps of a tiny GPT-2 through the trainer,
// two evaluations, three checkpoints) times each phase; the estimate counts steps, evaluations and
// checkpoint writes exactly as a real run of the trainer does them (checked against real runs' events),
// prices each by the calibration, and warns when the dataset is too small for the steps asked or
// the memory exceeds the machine's; the cache keys on the model and shape, not on steps or rate.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeGpt2Model } from '../../fixtures/tinyModel';
import { train } from '../../src/engine/train/trainer';
import {
  cacheCalibration,
  cachedCalibration,
  calibrate,
  calibrationKey,
  estimateRun,
  type Calibration,
} from '../../src/jobs/estimate';
import { PhaseTimer } from '../../src/jobs/phaseTimes';
import { trainOptionsFrom, type TrainSpec } from '../../src/jobs/trainSpec';

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
/** The calibration of spec(), measured once for the tests that need a real one. */
let real: Calibration;
test.before(async () => {
  real = await calibrate(spec());
});
const cal = (extra: Partial<Calibration> = {}): Calibration => ({
  key: 'k',
  stepSeconds: 0.5,
  setupSeconds: 3,
  evalSeconds: 0.2,
  laterEvalSeconds: 0.1,
  checkpointSeconds: 0.05,
  finalSeconds: 0.04,
  peakBytes: 1 * GiB,
  trainTokens: 16_001,
  validationTokens: 1000,
  seqLen: 16,
  measuredAt: '',
  ...extra,
});

test('a real calibration times each phase of the actual model and reads the data as the trainer does', async () => {
  assert.ok(real.stepSeconds > 0 && real.setupSeconds >= 0);
  assert.ok(real.evalSeconds > 0 && real.laterEvalSeconds > 0, 'two evaluations timed');
  assert.ok(real.checkpointSeconds > 0 && real.finalSeconds > 0, 'checkpoint and final writes timed');
  assert.ok(real.peakBytes > 10 * 2 ** 20);
  assert.ok(real.trainTokens > 20_000, `train tokens ${real.trainTokens}`);
  assert.ok(real.validationTokens > 0, 'plain files this long hold out a tail');
  assert.equal(real.seqLen, 16);
  assert.equal(real.key, calibrationKey(spec()));
  // Whatever the spec's evaluation setting, the calibration times one (it is shared by both).
  assert.ok((await calibrate(spec({ evalEvery: 0 }))).evalSeconds > 0);
});

/** A real run of `s` through the trainer, its phases as PhaseTimer saw its events. */
async function realRun(s: TrainSpec) {
  const timer = new PhaseTimer();
  const done = await train(await trainOptionsFrom(s), { onEvent: (e) => timer.onEvent(e) });
  return { ...timer.result(), done };
}

test('the estimate counts the steps, evaluations and checkpoint writes a real run does', async () => {
  const tiny = join(tmp, 'tiny.txt');
  writeFileSync(tiny, 'x = 1\n'.repeat(12));
  const tinyCal = await calibrate(spec({ data: [tiny] }));
  const cases: [string, Partial<TrainSpec>, Calibration][] = [
    [
      '7 steps, evaluations every 3, checkpoints every 2',
      { steps: 7, evalEvery: 3, checkpointEvery: 2 },
      real,
    ],
    ['6 steps, both every 3', { steps: 6, evalEvery: 3, checkpointEvery: 3 }, real],
    [
      'defaults: evaluations every 25, checkpoints every 100',
      { steps: 30, evalEvery: undefined, checkpointEvery: undefined },
      real,
    ],
    ['no evaluations, no checkpoints but the last', { steps: 4, evalEvery: 0, checkpointEvery: 0 }, real],
    ['data too short to hold out: nothing to evaluate', { data: [tiny], steps: 3, evalEvery: 1 }, tinyCal],
  ];
  for (const [name, extra, c] of cases) {
    const s = spec({ ...extra, patience: 0, outDir: join(tmp, `count-${name.length}-${extra.steps}`) });
    const e = estimateRun(s, c, { total: 16 * GiB, free: 8 * GiB });
    const run = await realRun(s);
    assert.equal(e.steps, run.done.step, `${name}: steps`);
    assert.equal(e.phases.steps.count, run.steps.length, `${name}: steps after the first`);
    assert.equal(e.phases.evaluations.count, run.evaluations.length, `${name}: evaluations`);
    assert.equal(e.phases.checkpoints.count, run.checkpoints.length, `${name}: checkpoints`);
  }
});

test('time: setup, steps, evaluations (the first builds its session), best writes, checkpoints, final write', () => {
  const e = estimateRun(spec({ steps: 40, evalEvery: 10, checkpointEvery: 15 }), cal(), {
    total: 16 * GiB,
    free: 8 * GiB,
  });
  assert.equal(e.steps, 40);
  // 1000 windows of 16; 4 rows a step: 40 steps = 160 windows = 0.16 epochs
  assert.ok(Math.abs(e.epochs - 0.16) < 1e-9);
  assert.deepEqual(e.phases, {
    untilFirstStep: 3 + 0.5,
    steps: { count: 39, seconds: 39 * 0.5 },
    // at steps 10, 20, 30, 40; keep-best is on by default: each may write the best
    evaluations: { count: 4, bestWrites: 4, seconds: 0.2 + 3 * 0.1 + 4 * 0.04 },
    // at steps 15, 30 and at the end
    checkpoints: { count: 3, seconds: 3 * 0.05 },
    final: 0.04,
  });
  const sum = 3.5 + 19.5 + (0.2 + 0.3 + 0.16) + 0.15 + 0.04;
  assert.ok(Math.abs(e.seconds - sum) < 1e-9, `${e.seconds} vs ${sum}`);
  assert.deepEqual(e.warnings, []);
  const noBest = estimateRun(spec({ steps: 40, evalEvery: 10, keepBest: false }), cal(), {
    total: 16 * GiB,
    free: 8 * GiB,
  });
  assert.equal(noBest.phases.evaluations.bestWrites, 0);
  const byEpochs = estimateRun(spec({ steps: undefined, epochs: 2 }), cal(), {
    total: 16 * GiB,
    free: 8 * GiB,
  });
  assert.equal(byEpochs.steps, 500);
});

test('PhaseTimer: each phase from the previous event, the first step with the setup', () => {
  const clock = [1000, 4000, 4500, 4600, 5100, 5400, 5450, 5500];
  let i = 0;
  const t = new PhaseTimer(0, () => clock[i++]);
  const step = (n: number) =>
    ({
      type: 'step',
      step: n,
      totalSteps: 3,
      loss: 1,
      lr: 1,
      gradNorm: 1,
      tokens: 1,
      tokensPerSec: 1,
      elapsed: 0,
    }) as const;
  t.onEvent({ type: 'log', level: 'info', message: 'not a phase' });
  t.onEvent({
    type: 'start',
    totalSteps: 3,
    startStep: 0,
    trainable: 1,
    mode: 'lora',
    trainWindows: 1,
    seqLen: 1,
  });
  // ignored events read no clock: the first reading is the first step's end
  t.onEvent(step(1));
  t.onEvent(step(2));
  t.onEvent({ type: 'checkpoint', step: 2, dir: '' });
  t.onEvent(step(3));
  t.onEvent({ type: 'eval', step: 3, evalLoss: 1 });
  t.onEvent({ type: 'checkpoint', step: 3, dir: '' });
  t.onEvent({ type: 'eval', step: 3, evalLoss: 1 });
  t.onEvent({ type: 'done', step: 3, reason: 'finished', outDir: '', finalDir: '', bestEvalLoss: null });
  assert.deepEqual(t.result(), {
    untilFirstStep: 1,
    steps: [3, 0.1],
    evaluations: [0.5, 0.05],
    checkpoints: [0.5, 0.3],
    final: 0.05,
    total: 5.5,
  });
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
  const tooShort = estimateRun(spec(), cal({ validationTokens: 16 }), { total: 16 * GiB, free: 8 * GiB });
  assert.match(tooShort.warnings.join('\n'), /no held-out split of a sequence \(16 tokens\)/);
  assert.equal(tooShort.phases.evaluations.count, 0);
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
