// The Fine-tune form's values as a TrainSpec: every hyperparameter reaches the spec, the presets
// change only what they own, bad values come back as one line naming the field, and the learning
// rate follows the model's size and the mode.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { defaultLearningRate } from '../../src/jobs/trainDefaults';
import { initialValues, PRESETS, specFromForm } from '../../src/vscode/finetune/formSpec';

const base = () => initialValues('/m/tiny-gpt2', '/ws/.localtune/datasets/code', 10e6);

test('every value of the form reaches the spec; keep-best, evaluation and patience are on by default', () => {
  const v = { ...base(), targets: 'c_attn, c_proj', threads: 2, seed: 7, warmupSteps: 5 };
  const r = specFromForm(v);
  assert.ok(typeof r !== 'string');
  assert.equal(r.title, 'tiny-gpt2 · code · LoRA');
  assert.deepEqual(r.spec.targets, ['c_attn', 'c_proj']);
  assert.equal(r.spec.keepBest, true);
  assert.equal(r.spec.patience, 3);
  assert.equal(r.spec.evalEvery, 25);
  assert.equal(r.spec.threads, 2);
  assert.equal(r.spec.seed, 7);
  assert.equal(r.spec.warmupSteps, 5);
  assert.equal(r.spec.steps, 200);
  assert.equal(r.spec.epochs, undefined);
  assert.equal(r.spec.lr, 3e-4);
});

test('steps 0 trains by epochs; full fine-tuning drops the LoRA settings', () => {
  const r = specFromForm({ ...base(), ...PRESETS.thorough, mode: 'full' });
  assert.ok(typeof r !== 'string');
  assert.equal(r.spec.steps, undefined);
  assert.equal(r.spec.epochs, 2);
  assert.equal(r.spec.loraR, undefined);
});

test('bad values come back as one line naming the field', () => {
  assert.equal(specFromForm({ ...base(), lr: NaN }), 'Learning rate must be a number.');
  assert.equal(specFromForm({ ...base(), loraR: 2.5 }), 'LoRA rank must be a whole number (got 2.5).');
  assert.equal(specFromForm({ ...base(), name: ' ' }), 'Give the run a name.');
  assert.match(String(specFromForm({ ...base(), batchTokens: 1000 })), /multiple of the sequence length/);
  assert.equal(specFromForm({ ...base(), steps: 0, epochs: 0 }), 'Set steps, or epochs (steps 0).');
});

test('the learning rate follows model size and mode', () => {
  assert.equal(defaultLearningRate('lora', 10e6), 3e-4);
  assert.equal(defaultLearningRate('lora', 135e6), 2e-4);
  assert.equal(defaultLearningRate('lora', 1.5e9), 1e-4);
  assert.equal(defaultLearningRate('full', 135e6), 5e-5);
  assert.ok(defaultLearningRate('full', 7e9) < defaultLearningRate('lora', 7e9));
});

test('base weights: int8 by default from 10M parameters; the choice reaches the spec for LoRA only; anything else is refused', () => {
  assert.equal(base().baseDtype, 'int8');
  assert.equal(initialValues('/m/toy', '/ws/d', 9.9e6).baseDtype, 'fp32');
  assert.equal(initialValues('/m/unknown', '/ws/d', null).baseDtype, 'fp32');
  const asked = specFromForm({ ...base(), baseDtype: 'int8' });
  assert.ok(typeof asked !== 'string');
  assert.equal(asked.spec.baseDtype, 'int8');
  const full = specFromForm({ ...base(), baseDtype: 'int8', mode: 'full' });
  assert.ok(typeof full !== 'string');
  assert.equal(full.spec.baseDtype, undefined);
  const plain = specFromForm({ ...base(), baseDtype: 'fp32' });
  assert.ok(typeof plain !== 'string');
  assert.equal(plain.spec.baseDtype, 'fp32', 'said, so that the engine does not pick int8 by size');
  assert.equal(
    specFromForm({ ...base(), baseDtype: 'int4' as 'int8' }),
    'Base weights must be fp32 or int8.',
  );
});
