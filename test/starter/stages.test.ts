// The starter's pretraining carries across sessions in stages (scripts/starter/stage.ts): each
// starts from the shipped weights at the plan's rate for its first step, and its figures join the
// shipped history (models/starter/pretraining.json) without doubling when packaged twice.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { learningRate } from '../../src/engine/train/schedule';
import { appendStage } from '../../scripts/starter/history';
import { nextStage, PLAN, readHistory, type PretrainingHistory } from '../../scripts/starter/stage';

const root = join(__dirname, '..', '..');
const history = (step: number): PretrainingHistory => ({
  plan: PLAN,
  step,
  tokens: step * PLAN.batchTokens,
  seconds: step * 10,
  stages: [
    { fromStep: 0, toStep: step, init: 'random', tokens: step * PLAN.batchTokens, seconds: step * 10 },
  ],
  evals: [{ step: 25, loss: 8 }],
  trainLoss: [{ step, loss: 5 }],
});

test('the first stage trains from random weights with the plan; later ones from the shipped weights', () => {
  assert.deepEqual(nextStage(undefined, 100), {
    fromStep: 0,
    steps: 100,
    init: 'random',
    lr: PLAN.lr,
    warmup: PLAN.warmup,
    seed: 0,
  });
  const s = nextStage(history(600), 100)!;
  assert.equal(s.init, 'shipped');
  assert.equal(s.fromStep, 600);
  const planned = learningRate(600, { peak: PLAN.lr, warmup: PLAN.warmup, total: PLAN.steps, minRatio: 0.1 });
  assert.equal(s.lr, planned);
  assert.ok(s.lr < PLAN.lr * 0.6 && s.lr > PLAN.lr * 0.4, `mid-plan rate ${s.lr}`);
  assert.notEqual(s.seed, 0, 'a stage draws its own order of windows');
  assert.equal(nextStage(history(1150), 100)!.steps, 50, 'capped at the plan');
  assert.equal(nextStage(history(1200), 100), undefined, 'the plan is complete');
});

test('a stage joins the history in plan steps; packaging it twice replaces it', () => {
  const prior = history(70);
  const stage = nextStage(prior, 60)!;
  const figures = (toStep: number) => ({
    toStep,
    tokens: (toStep - 70) * PLAN.batchTokens,
    seconds: 100,
    evals: [{ step: 95, loss: 6 }],
    trainLoss: [{ step: toStep, loss: 4.5 }],
  });
  const once = appendStage(prior, stage, figures(110));
  const twice = appendStage(once, stage, figures(130));
  assert.equal(twice.step, 130);
  assert.equal(twice.stages.length, 2);
  assert.equal(twice.tokens, 130 * PLAN.batchTokens);
  assert.equal(twice.seconds, 70 * 10 + 100);
  assert.deepEqual(
    twice.evals.map((e) => e.step),
    [25, 95],
  );
  assert.deepEqual(
    twice.trainLoss.map((e) => e.step),
    [70, 130],
  );
});

test('the shipped history agrees with the shipped card', () => {
  const h = readHistory(root)!;
  assert.ok(h, 'models/starter/pretraining.json');
  const card = readFileSync(join(root, 'models', 'starter', 'README.md'), 'utf8');
  assert.match(card, new RegExp(`Steps: ${h.step} of ${h.plan.steps}`));
  assert.match(card, new RegExp(`tokens trained: ${h.tokens.toLocaleString('en-US')}`));
  assert.equal(
    h.stages.reduce((a, s) => a + s.tokens, 0),
    h.tokens,
  );
  for (let i = 1; i < h.stages.length; i++) assert.equal(h.stages[i].fromStep, h.stages[i - 1].toStep);
  assert.equal(h.stages.at(-1)!.toStep, h.step);
});
