import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeGpt2Model } from '../../../fixtures/tinyModel';
import { loadModel } from '../../../src/engine/models';
import { train, type TrainOptions } from '../../../src/engine/train/trainer';
import type { TrainEvent } from '../../../src/engine/train/events';
import { OptionError } from '../../../src/engine/errors';

const SHAPE = { nLayer: 2, nHead: 2, nEmbd: 32, nPositions: 64, vocabSize: 64 };

/** A cycle through 12 token ids; `order` picks the transitions, so two orders share unigrams only. */
function cycle(tokens: number, order: number[]) {
  const ids = Uint32Array.from({ length: tokens }, (_, i) => 3 + order[i % order.length] * 4);
  return { ids, weights: new Uint8Array(tokens).fill(1) };
}
const FORWARD = Array.from({ length: 12 }, (_, i) => (i * 5) % 12);
const SHUFFLED = [0, 7, 2, 9, 4, 11, 6, 1, 8, 3, 10, 5];

async function options(extra: Partial<TrainOptions>): Promise<TrainOptions> {
  const dir = mkdtempSync(join(tmpdir(), 'lt-early-'));
  await writeGpt2Model(join(dir, 'base'), SHAPE, 5, { embeddingStd: 0.5 });
  return {
    model: loadModel(join(dir, 'base')),
    baseModelName: join(dir, 'base'),
    // Training teaches one order of the 12 ids; validation follows another. Learning which ids occur
    // helps validation at first; learning the training order's transitions then hurts it.
    train: cycle(4000, FORWARD),
    validation: cycle(600, SHUFFLED),
    mode: 'lora',
    lora: { r: 4, alpha: 8, targets: ['c_attn', 'c_proj', 'c_fc'], dropout: 0, rslora: false },
    steps: 80,
    lr: 2e-2,
    warmupSteps: 2,
    minLrRatio: 0.1,
    weightDecay: 0,
    clipNorm: 1,
    batchTokens: 256,
    seqLen: 32,
    microBatchTokens: 256,
    evalEvery: 4,
    evalTokens: 256,
    checkpointEvery: 0,
    seed: 7,
    outDir: join(dir, 'run'),
    threads: 1,
    ...extra,
  };
}

test('a run that overfits stops early, and its final adapter is the best evaluation', async () => {
  const o = await options({ patience: 2 });
  const events: TrainEvent[] = [];
  const done = await train(o, { onEvent: (e) => events.push(e) });
  const evals = events.filter((e) => e.type === 'eval');
  const losses = evals.map((e) => e.evalLoss);
  const bestAt = losses.indexOf(Math.min(...losses));
  assert.ok(done.earlyStopped, `stopped early (eval losses ${losses.map((l) => l.toFixed(3)).join(', ')})`);
  assert.ok(done.step < 80, `stopped at ${done.step}`);
  assert.equal(done.reason, 'finished');
  // Stopped exactly `patience` evaluations after the best one.
  assert.equal(evals.length, bestAt + 1 + 2);
  assert.equal(done.bestStep, evals[bestAt].step);
  assert.equal(done.bestEvalLoss, losses[bestAt]);
  assert.equal(done.finalIs, 'best');
  assert.deepEqual(
    evals.map((e) => e.best),
    losses.map((l, i) => losses.slice(0, i).every((p) => l < p)),
  );
  // The final adapter is byte for byte the best one; the last checkpoint (after it) differs.
  const best = readFileSync(join(o.outDir, 'best', 'adapter_model.safetensors'));
  assert.deepEqual(readFileSync(join(done.finalDir, 'adapter_model.safetensors')), best);
  assert.deepEqual(JSON.parse(readFileSync(join(o.outDir, 'best', 'best.json'), 'utf8')), {
    step: done.bestStep,
    evalLoss: done.bestEvalLoss,
  });
  const last = join(o.outDir, 'checkpoints', `step-${String(done.step).padStart(6, '0')}`);
  assert.notDeepEqual(readFileSync(join(last, 'adapter_model.safetensors')), best);
  // metrics.jsonl marks the best evaluations too.
  const metrics = readFileSync(join(o.outDir, 'metrics.jsonl'), 'utf8').trim().split('\n');
  assert.equal(metrics.filter((l) => l.includes('"best":true')).length, evals.filter((e) => e.best).length);
});

test('without patience the run goes on to the end; --keep-best alone still makes the best one final', async () => {
  const o = await options({ steps: 24, keepBest: true });
  const done = await train(o);
  assert.equal(done.step, 24);
  assert.equal(done.earlyStopped, false);
  assert.equal(done.finalIs, 'best');
  assert.ok(existsSync(join(o.outDir, 'best', 'best.json')));

  const plain = await options({ steps: 8 });
  const d2 = await train(plain);
  assert.equal(d2.finalIs, 'last');
  assert.ok(!existsSync(join(plain.outDir, 'best')));
});

test('patience without a validation split is refused with a clear message', async () => {
  const o = await options({ patience: 2, validation: undefined });
  await assert.rejects(
    train(o),
    (e: Error) =>
      e instanceof OptionError &&
      /^patience needs evaluations: .* and evalEvery above 0$/.test(e.message) &&
      e.options.join() === 'patience,evalEvery',
  );
});
