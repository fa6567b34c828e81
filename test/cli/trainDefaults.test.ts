// `localtune train` applies the editor's protective defaults (src/jobs/trainDefaults.ts, through
// trainOptionsFrom): a learning rate by model size and mode, evaluation with the best step kept,
// early stopping after 3 evaluations without a new best, and plain files' held-out tail sized by
// tokens — each overridable by its flag. Every run is the real CLI on a real tiny model.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { cli } from './capture';
import { writeGpt2Model } from '../../fixtures/tinyModel';
import type { TrainEvent } from '../../src/engine/train/events';
import { protectiveSettings } from '../../src/jobs/trainDefaults';

const tmp = mkdtempSync(join(tmpdir(), 'lt-train-defaults-'));
const modelDir = join(tmp, 'model');
// Code to train on, then prose at the tail (the held-out part of plain files): with a rate far too
// high, training on the code makes the prose's loss worse, so evaluations stop finding a new best.
const mixed = join(tmp, 'mixed.txt');
const small = join(tmp, 'small.txt');
const tiny = join(tmp, 'tiny.txt');
test.before(async () => {
  await writeGpt2Model(modelDir, { nLayer: 1, nHead: 2, nEmbd: 16, nPositions: 64 }, 1);
  writeFileSync(
    mixed,
    'def add(a, b):\n    return a + b\n\n'.repeat(400) +
      'The quiet river wandered past old mills and sleepy villages at dawn.\n'.repeat(200),
  );
  writeFileSync(small, 'const x = 1;\nlet y = x + 2;\n'.repeat(60));
  writeFileSync(tiny, 'x = 1\n'.repeat(12));
});

const SHAPE = ['--seq-len', '16', '--batch-tokens', '64', '--warmup', '0'];

async function train(...args: string[]) {
  const r = await cli('train', '--model', modelDir, ...SHAPE, '--json', ...args);
  assert.equal(r.code, 0, r.err.join('\n'));
  const events = r.out.map((l) => JSON.parse(l) as TrainEvent);
  return {
    steps: events.flatMap((e) => (e.type === 'step' ? [e] : [])),
    evals: events.flatMap((e) => (e.type === 'eval' ? [e] : [])),
    done: events.flatMap((e) => (e.type === 'done' ? [e] : []))[0],
  };
}

test('the learning rate is chosen by model size and mode unless --lr is given', async () => {
  // A 0.8M-parameter model is in the smallest band: LoRA 3e-4, full 1e-4 (no warm-up: step 1 runs at the peak).
  const lora = await train('--data', small, '--steps', '1', '--out', join(tmp, 'lr-lora'));
  assert.equal(lora.steps[0].lr, 3e-4);
  const full = await train('--data', small, '--steps', '1', '--mode', 'full', '--out', join(tmp, 'lr-full'));
  assert.equal(full.steps[0].lr, 1e-4);
  const asked = await train('--data', small, '--steps', '1', '--lr', '0.002', '--out', join(tmp, 'lr-asked'));
  assert.equal(asked.steps[0].lr, 0.002);
});

test('plain files hold out a tail of at least the floor, so a small file is evaluated and its best step kept', async () => {
  // ~900 tokens: below the old 20,000-token threshold (nothing was held out), now 30% is.
  const r = await train('--data', small, '--steps', '4', '--eval-every', '2', '--out', join(tmp, 'floor'));
  assert.deepEqual(
    r.evals.map((e) => e.step),
    [2, 4],
  );
  assert.equal(r.done.finalIs, 'best', 'keep-best is on by default');
  assert.ok(existsSync(join(tmp, 'floor', 'best', 'best.json')));
  const off = await train(
    '--data',
    small,
    '--steps',
    '4',
    '--eval-every',
    '2',
    '--no-keep-best',
    '--out',
    join(tmp, 'floor-off'),
  );
  assert.equal(off.evals.length, 2);
  assert.equal(off.done.finalIs, 'last', '--no-keep-best turns it off');
  assert.ok(!existsSync(join(tmp, 'floor-off', 'best')));
  const both = await cli('train', '--model', modelDir, '--data', small, '--keep-best', '--no-keep-best');
  assert.equal(both.code, 2);
  assert.deepEqual(both.err, ['localtune: give --keep-best or --no-keep-best, not both']);
});

test('data too short to hold out a sequence trains on all of it, with no evaluation and no early stopping', async () => {
  const r = await train('--data', tiny, '--steps', '2', '--eval-every', '1', '--out', join(tmp, 'tiny'));
  assert.equal(r.evals.length, 0);
  assert.equal(r.done.step, 2);
  assert.equal(r.done.finalIs, 'last');
  // Asked for explicitly, patience still needs evaluations: one line says so.
  const asked = await cli(
    'train',
    '--model',
    modelDir,
    '--data',
    tiny,
    '--steps',
    '2',
    '--patience',
    '2',
    ...SHAPE,
    '--out',
    join(tmp, 'tiny-patience'),
  );
  assert.equal(asked.code, 2);
  assert.match(asked.err.at(-1)!, /--patience needs evaluations/);
});

test('early stopping after 3 evaluations without a new best is on by default; --patience 0 turns it off', async () => {
  const args = ['--data', mixed, '--steps', '30', '--eval-every', '1', '--eval-tokens', '256', '--lr', '0.5'];
  const stopped = await train(...args, '--out', join(tmp, 'patience'));
  const evals = stopped.evals;
  assert.ok(stopped.done.earlyStopped, `stopped early (evals: ${JSON.stringify(evals)})`);
  assert.ok(stopped.done.step < 30);
  // It stopped exactly when the third evaluation in a row found no new best.
  assert.deepEqual(
    evals.slice(-3).map((e) => e.best),
    [false, false, false],
  );
  assert.equal(evals.at(-4)?.best, true, 'the best evaluation came just before them');
  assert.equal(stopped.done.finalIs, 'best');
  const off = await train(...args, '--patience', '0', '--out', join(tmp, 'patience-off'));
  assert.equal(off.done.step, 30);
  assert.ok(!off.done.earlyStopped);
  const longer = await train(...args, '--patience', '6', '--out', join(tmp, 'patience-6'));
  assert.ok(longer.done.step > stopped.done.step, 'a larger patience runs longer');
});

test('the rate bands by size and mode, and the settings a run without validation keeps off', () => {
  const run = { mode: 'lora' as const, parameters: 124e6, hasValidation: true };
  assert.deepEqual(protectiveSettings({}, run), { lr: 2e-4, evalEvery: 25, patience: 3, keepBest: true });
  assert.equal(protectiveSettings({}, { ...run, mode: 'full' }).lr, 5e-5);
  assert.equal(protectiveSettings({}, { ...run, parameters: 1.1e9 }).lr, 1e-4);
  assert.equal(protectiveSettings({}, { ...run, parameters: 7e9, mode: 'full' }).lr, 1e-5);
  assert.deepEqual(protectiveSettings({}, { ...run, hasValidation: false }), {
    lr: 2e-4,
    evalEvery: 25,
    patience: 0,
    keepBest: false,
  });
  assert.deepEqual(protectiveSettings({ evalEvery: 0 }, run), {
    lr: 2e-4,
    evalEvery: 0,
    patience: 0,
    keepBest: false,
  });
  assert.deepEqual(protectiveSettings({ lr: 1e-3, patience: 0, keepBest: false }, run), {
    lr: 1e-3,
    evalEvery: 25,
    patience: 0,
    keepBest: false,
  });
});

test("the learning-rate setting's description names the same rates (package.json)", () => {
  const pkg = JSON.parse(readFileSync(join(__dirname, '../../package.json'), 'utf8')) as {
    contributes: { configuration: { properties: Record<string, { markdownDescription?: string }> } };
  };
  const text =
    pkg.contributes.configuration.properties['localtune.training.learningRate'].markdownDescription!;
  // The rates as the description lists them, in order: LoRA by band, then full by band.
  const listed = [...text.matchAll(/`(\d(?:\.\d+)?e-\d+)`/g)].map((m) => Number(m[1]));
  const bands = [1e6, 1e8, 1e9, 1e10];
  const rate = (mode: 'lora' | 'full', parameters: number) =>
    protectiveSettings({}, { mode, parameters, hasValidation: true }).lr;
  assert.deepEqual(
    listed,
    [...bands.map((p) => rate('lora', p)), ...bands.map((p) => rate('full', p))],
    text,
  );
});
