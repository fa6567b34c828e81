import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeGpt2Model } from '../../../fixtures/tinyModel';
import { loadModel } from '../../../src/engine/models';
import { train } from '../../../src/engine/train/trainer';
import { listCheckpoints, readCheckpointStep } from '../../../src/engine/train/checkpoint';
import { isUserError } from '../../../src/engine/errors';

test('a diverging run stops with a clear message and keeps the last good checkpoint', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'lt-nan-'));
  await writeGpt2Model(
    join(dir, 'base'),
    { nLayer: 1, nHead: 2, nEmbd: 16, nPositions: 32, vocabSize: 64 },
    1,
  );
  const ids = Uint32Array.from({ length: 2000 }, (_, i) => (i * 7) % 64);
  const outDir = join(dir, 'run');
  let steps = 0;
  await assert.rejects(
    train(
      {
        model: loadModel(join(dir, 'base')),
        baseModelName: 'base',
        train: { ids, weights: new Uint8Array(ids.length).fill(1) },
        mode: 'full',
        lora: { r: 2, alpha: 4, targets: ['c_attn'], dropout: 0, rslora: false },
        steps: 50,
        // An absurd learning rate ramping up over 50 steps: within a few steps the weights explode and the loss overflows.
        lr: 1e9,
        warmupSteps: 50,
        minLrRatio: 1,
        weightDecay: 0,
        clipNorm: 0,
        batchTokens: 64,
        seqLen: 16,
        microBatchTokens: 64,
        evalEvery: 0,
        evalTokens: 0,
        checkpointEvery: 1,
        seed: 0,
        outDir,
        threads: 1,
      },
      { onEvent: (e) => e.type === 'step' && steps++ },
    ),
    (err: unknown) => {
      assert.ok(isUserError(err));
      assert.match(
        (err as Error).message,
        /training loss became (NaN|Infinity|-Infinity) at step \d+; the last good checkpoint is kept/,
      );
      return true;
    },
  );
  assert.ok(steps >= 1, 'some steps ran before the divergence');
  const kept = listCheckpoints(outDir);
  assert.ok(
    kept.length >= 1 && existsSync(join(kept.at(-1)!, 'trainer_state.json')),
    'the last good checkpoint is intact',
  );
  // The kept checkpoint's parameters gave a finite loss: it is older than the step that diverged.
  assert.equal(readCheckpointStep(kept.at(-1)!), steps - 1);
});
