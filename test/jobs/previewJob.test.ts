// Preview Samples runs in the forked worker (job kind `preview`), never in the extension host: a
// dataset built from a small workspace comes back with its manifest and its first training
// documents decoded with the model's tokenizer, and the text the editor shows lists them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeGpt2Model } from '../../fixtures/tinyModel';
import { previewLines, type DatasetPreview } from '../../src/jobs/datasetPreview';
import type { JobRequest, WorkerMessage } from '../../src/jobs/protocol';
import { WorkerJob, type JobOutcome } from '../../src/jobs/trainJob';

const WORKER = join(__dirname, '../../src/jobs/workers/train.ts');
const tmp = mkdtempSync(join(tmpdir(), 'lt-preview-job-'));
const modelDir = join(tmp, 'model');
const workspace = join(tmp, 'ws');
const datasetDir = join(tmp, 'dataset');

/** Six small source files, each one document of the dataset. */
const FILES = Object.fromEntries(
  Array.from({ length: 6 }, (_, i) => [
    `src/mod${i}.ts`,
    `// module ${i}\nexport function area${i}(w: number, h: number): number {\n  return w * h + ${i};\n}\n`,
  ]),
);

async function runJob(job: JobRequest): Promise<{ outcome: JobOutcome; messages: WorkerMessage[] }> {
  const w = new WorkerJob({ workerPath: WORKER, execArgv: ['--import', 'tsx'], stopTimeoutMs: 60_000, job });
  const messages: WorkerMessage[] = [];
  w.onMessage((m) => messages.push(m));
  return { outcome: await w.outcome, messages };
}

function previewOf(messages: WorkerMessage[]): DatasetPreview {
  const done = messages.find((m) => m.type === 'preview-done');
  assert.ok(done && done.type === 'preview-done', 'preview-done arrives');
  return done.preview;
}

test.before(async () => {
  await writeGpt2Model(modelDir, { nLayer: 1, nHead: 2, nEmbd: 16, nPositions: 32 }, 3);
  for (const [path, text] of Object.entries(FILES)) {
    mkdirSync(join(workspace, path, '..'), { recursive: true });
    writeFileSync(join(workspace, path), text);
  }
  const built = await runJob({ kind: 'dataset', sources: [workspace], modelDir, outDir: datasetDir });
  assert.equal(built.outcome.status, 'finished', JSON.stringify(built.outcome));
});

test('a preview job decodes the first training documents of a real dataset in the worker', async () => {
  const { outcome, messages } = await runJob({ kind: 'preview', datasetDir, samples: 3 });
  assert.equal(outcome.status, 'finished', JSON.stringify(outcome));
  const p = previewOf(messages);
  assert.equal(p.datasetDir, datasetDir);
  assert.equal(p.modelDir, modelDir);
  assert.equal(p.modelFound, true);
  assert.equal(p.requested, 3);
  assert.ok(p.manifest.documents.train >= 3, `${p.manifest.documents.train} training documents`);
  assert.equal(p.samples.length, 3);
  const sources = Object.values(FILES);
  for (const s of p.samples) {
    // Each sample is one whole source file, as the tokenizer gives it back.
    assert.ok(
      sources.some((f) => s.text.includes(f.trim())),
      `sample is one of the files: ${JSON.stringify(s.text)}`,
    );
    assert.ok(s.tokens > 10, `${s.tokens} tokens`);
    assert.ok(s.lossTokens > 0 && s.lossTokens <= s.tokens, `${s.lossTokens} of ${s.tokens} with loss`);
  }
  assert.equal(new Set(p.samples.map((s) => s.text)).size, 3, 'three different documents');

  const text = previewLines(p).join('\n');
  assert.match(text, new RegExp(`^dataset ${p.manifest.name}: ${workspace}`));
  assert.match(text, /--- sample 1: \d+ tokens, \d+ with loss\n/);
  assert.match(text, /--- sample 3: /);
  assert.doesNotMatch(text, /--- sample 4: /);
});

test('a preview without the model folder lists no samples and says why', async () => {
  const missing = join(tmp, 'no-such-model');
  const { outcome, messages } = await runJob({ kind: 'preview', datasetDir, samples: 2, modelDir: missing });
  assert.equal(outcome.status, 'finished', JSON.stringify(outcome));
  const p = previewOf(messages);
  assert.equal(p.modelFound, false);
  assert.deepEqual(p.samples, []);
  assert.match(previewLines(p).join('\n'), /\(no samples: model folder .*no-such-model not found/);
});

test('a preview of a folder that is not a dataset fails with a user error', async () => {
  const { outcome } = await runJob({ kind: 'preview', datasetDir: workspace, samples: 2 });
  assert.equal(outcome.status, 'failed');
  assert.ok(outcome.status === 'failed' && outcome.cause === 'user', JSON.stringify(outcome));
  assert.match(outcome.status === 'failed' ? outcome.message : '', /not a dataset folder/);
});
