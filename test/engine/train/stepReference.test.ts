// The training loop against a float64 reference written from the definitions (step_reference.py:
// PyTorch autograd, clip_grad_norm_, torch.optim.AdamW, warmup + cosine): the token-weighted loss,
// gradient accumulation over one or several micro-batches, clipping, decay and the schedule, in
// full fine-tuning of a tiny GPT-2 over three steps.
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { writeGpt2Model } from '../../../fixtures/tinyModel';
import { SafetensorsReader } from '../../../src/engine/formats/safetensors';
import { loadModel } from '../../../src/engine/models';
import { Rng } from '../../../src/engine/rng';
import { train } from '../../../src/engine/train/trainer';
import { runReference, torchSkip } from '../../helpers/torchReference';

const tmp = mkdtempSync(join(tmpdir(), 'lt-stepref-'));
const modelDir = join(tmp, 'model');
const SEQ = 8;
const WINDOWS = 6;
const HYPER = { steps: 3, lr: 0.02, warmup: 2, min_ratio: 0.1, weight_decay: 0.1, clip: 0.5 };

interface Reference {
  loss: number[];
  grad_norm: number[];
  lr: number[];
  weights: Record<string, number[]>;
}

// A stream of exactly WINDOWS windows; about a third of the tokens carry no loss (as a prompt's).
const rng = new Rng(11);
const ids = Uint32Array.from({ length: WINDOWS * SEQ + 1 }, () => rng.nextInt(256));
const weights = Uint8Array.from({ length: ids.length }, (_, i) => (i % 3 === 1 ? 0 : 1));

async function ours(microBatchTokens: number) {
  const out = join(tmp, `run-${microBatchTokens}`);
  const events: { loss: number; gradNorm: number; lr: number }[] = [];
  await train(
    {
      model: loadModel(modelDir),
      baseModelName: modelDir,
      train: { ids, weights },
      mode: 'full',
      lora: { r: 1, alpha: 1, targets: [], dropout: 0, rslora: false },
      steps: HYPER.steps,
      lr: HYPER.lr,
      warmupSteps: HYPER.warmup,
      minLrRatio: HYPER.min_ratio,
      weightDecay: HYPER.weight_decay,
      clipNorm: HYPER.clip,
      batchTokens: WINDOWS * SEQ,
      seqLen: SEQ,
      microBatchTokens,
      evalEvery: 0,
      evalTokens: 0,
      checkpointEvery: 0,
      seed: 0,
      outDir: out,
    },
    { onEvent: (e) => e.type === 'step' && events.push(e) },
  );
  return { events, weights: SafetensorsReader.open(join(out, 'model', 'model.safetensors')) };
}

let reference: Reference;
test.before(async () => {
  await writeGpt2Model(modelDir, { nLayer: 2, nHead: 2, nEmbd: 16, nPositions: 16 }, 5);
  if (torchSkip()) return;
  const spec = join(tmp, 'spec.json');
  writeFileSync(
    spec,
    JSON.stringify({ model_dir: modelDir, ids: [...ids], weights: [...weights], seq_len: SEQ, ...HYPER }),
  );
  reference = runReference<Reference>(join(__dirname, 'step_reference.py'), [spec]);
});

for (const micro of [WINDOWS * SEQ, 2 * SEQ, SEQ]) {
  test(
    `three full steps in ${(WINDOWS * SEQ) / micro} micro-batch(es) match the float64 reference`,
    { skip: torchSkip() },
    async () => {
      const { events, weights: final } = await ours(micro);
      assert.ok(
        reference.grad_norm.every((n) => n > HYPER.clip),
        'clipping engages at every step',
      );
      for (let s = 0; s < HYPER.steps; s++) {
        assert.ok(Math.abs(events[s].lr - reference.lr[s]) <= 1e-12 * reference.lr[s], `lr at step ${s + 1}`);
        assert.ok(
          Math.abs(events[s].loss - reference.loss[s]) < 2e-5 * reference.loss[s],
          `loss ${events[s].loss} vs ${reference.loss[s]} at step ${s + 1}`,
        );
        assert.ok(
          Math.abs(events[s].gradNorm - reference.grad_norm[s]) < 1e-4 * reference.grad_norm[s],
          `grad norm ${events[s].gradNorm} vs ${reference.grad_norm[s]} at step ${s + 1}`,
        );
      }
      // Each weight moved by ~lr per step; after three steps every one agrees with the reference to a
      // small fraction of a single update (float32 against float64).
      let worst = 0;
      for (const [name, want] of Object.entries(reference.weights)) {
        const got = final.readFloat32(
          name.startsWith('transformer.') && !final.names().includes(name) ? name.slice(12) : name,
        );
        want.forEach((v, i) => (worst = Math.max(worst, Math.abs(got[i] - v))));
      }
      assert.ok(worst < 0.05 * HYPER.lr, `largest weight difference ${worst} (lr ${HYPER.lr})`);
    },
  );
}
