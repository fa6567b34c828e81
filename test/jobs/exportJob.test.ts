// Exporting runs in the forked worker (never in the extension host): a LoRA run's adapter is merged
// and written as a transformers.js model folder; a bad adapter comes back as a user error.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeGpt2Model } from '../../fixtures/tinyModel';
import { Rng } from '../../src/engine/rng';
import { maxAbsDiff, transformersJs } from '../engine/generate/fixtures';
import { runReference, torchSkip } from '../helpers/torchReference';
import { WorkerJob } from '../../src/jobs/trainJob';
import type { WorkerMessage } from '../../src/jobs/protocol';

const WORKER = join(__dirname, '../../src/jobs/workers/train.ts');
const tmp = mkdtempSync(join(tmpdir(), 'lt-export-job-'));
const modelDir = join(tmp, 'model');
const REFERENCE = join(__dirname, '../engine/models/hf_reference.py');
const noTorch = torchSkip();

function exportJob(o: { adapterDir?: string; outDir: string; dtype: 'fp32' | 'int8' }) {
  return new WorkerJob({
    workerPath: WORKER,
    execArgv: ['--import', 'tsx'],
    stopTimeoutMs: 60_000,
    job: { kind: 'export', modelDir, ...o },
  });
}

test.before(async () => {
  await writeGpt2Model(modelDir, { nLayer: 1, nHead: 2, nEmbd: 16, nPositions: 32 }, 2);
});

test(
  'an export job writes the model folder in the worker and reports export-done',
  { skip: noTorch },
  async () => {
    const outDir = join(tmp, 'export-int8');
    const job = exportJob({ outDir, dtype: 'int8' });
    const messages: WorkerMessage[] = [];
    job.onMessage((m) => messages.push(m));
    const outcome = await job.outcome;
    assert.equal(outcome.status, 'finished', JSON.stringify(outcome));
    const done = messages.find((m) => m.type === 'export-done');
    assert.ok(done && done.type === 'export-done');
    assert.equal(done.outDir, outDir);
    // The reported int8 error, recomputed: the exported int8 file (through transformers.js) against
    // PyTorch's fp32 logits on the export's probe (32 ids drawn by Rng(0) from the vocabulary).
    const rng = new Rng(0);
    const probe = Array.from({ length: 32 }, () => rng.nextInt(50257));
    const reference = Float32Array.from(
      runReference<number[]>(REFERENCE, [modelDir, JSON.stringify(probe), '--logits']),
    );
    const q8 = await transformersJs(outDir, 'q8');
    const recomputed = maxAbsDiff(await q8.logits(probe), reference);
    await q8.dispose();
    assert.ok(recomputed > 0, 'int8 differs from fp32');
    assert.ok(
      done.maxLogitDiff !== undefined && Math.abs(done.maxLogitDiff - recomputed) <= 1e-4,
      `reported max |logit diff| ${done.maxLogitDiff}, recomputed against PyTorch ${recomputed}`,
    );
    for (const f of [
      'config.json',
      'tokenizer.json',
      'tokenizer_config.json',
      'README.md',
      'onnx/model_quantized.onnx',
    ])
      assert.ok(existsSync(join(outDir, f)), `${f} exists`);
  },
);

test('a broken adapter fails the export job with a user error and writes nothing', async () => {
  const adapterDir = join(tmp, 'bad-adapter');
  mkdirSync(adapterDir);
  writeFileSync(join(adapterDir, 'adapter_config.json'), '{ not json');
  writeFileSync(join(adapterDir, 'adapter_model.safetensors'), 'x');
  const outDir = join(tmp, 'export-bad');
  const outcome = await exportJob({ adapterDir, outDir, dtype: 'fp32' }).outcome;
  assert.equal(outcome.status, 'failed');
  assert.ok(outcome.status === 'failed' && outcome.cause === 'user', JSON.stringify(outcome));
  assert.match(outcome.status === 'failed' ? outcome.message : '', /adapter_config\.json: not valid JSON/);
  assert.ok(!existsSync(outDir));
});
