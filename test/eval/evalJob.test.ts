import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { WorkerMessage } from '../../src/jobs/protocol';
import { WorkerJob } from '../../src/jobs/trainJob';
import { evalFixture } from './fixture';

const WORKER = join(__dirname, '../../src/jobs/workers/train.ts');

test('an eval job runs in the forked worker: progress lines, eval-done with the report, eval.json beside the adapter', async () => {
  const f = await evalFixture({ steps: 3, mode: 'lora', files: 12 });
  const job = new WorkerJob({
    workerPath: WORKER,
    execArgv: ['--import', 'tsx'],
    job: { kind: 'eval', modelDir: f.modelDir, adapterDir: f.adapterDir, datasetDir: f.datasetDir, spans: 3 },
  });
  const messages: WorkerMessage[] = [];
  job.onMessage((m) => messages.push(m));
  const outcome = await job.outcome;
  assert.equal(outcome.status, 'finished', JSON.stringify(outcome));
  const done = messages.find((m) => m.type === 'eval-done');
  assert.ok(done && done.type === 'eval-done');
  assert.equal(done.report.tuned!.completion!.spans, 3);
  assert.equal(done.reportPath, join(f.adapterDir!, 'eval.json'));
  assert.ok(existsSync(done.reportPath));
  assert.ok(messages.some((m) => m.type === 'log' && /tuned: completion 3\/3/.test(m.message)));
});

test('an eval job with a bad dataset fails with the user error as its message', async () => {
  const f = await evalFixture({ steps: 0, files: 6 });
  const job = new WorkerJob({
    workerPath: WORKER,
    execArgv: ['--import', 'tsx'],
    job: { kind: 'eval', modelDir: f.modelDir, datasetDir: join(f.root, 'nope') },
  });
  const outcome = await job.outcome;
  assert.equal(outcome.status, 'failed');
  assert.ok(
    outcome.status === 'failed' && outcome.cause === 'user' && /not a dataset folder/.test(outcome.message),
  );
});
