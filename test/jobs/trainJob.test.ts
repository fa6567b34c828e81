// A real forked training worker on a tiny model: the protocol's events arrive in order, a stop
// writes a checkpoint that a resumed job continues from, SIGKILL is reported as a kill and the
// checkpoint survives, a closed IPC channel (window closed) stops the worker cleanly, and one
// workspace runs one training job at a time.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fork } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeGpt2Model } from '../../fixtures/tinyModel';
import { PROTOCOL_VERSION, type WorkerMessage } from '../../src/jobs/protocol';
import { readRunRecord, summarizeRun } from '../../src/jobs/runs';
import { JobBusyError, TrainingSlot, WorkerJob, type WorkerJobOptions } from '../../src/jobs/trainJob';
import type { TrainSpec } from '../../src/jobs/trainSpec';

const WORKER = join(__dirname, '../../src/jobs/workers/train.ts');
const SHAPE = { nLayer: 1, nHead: 2, nEmbd: 16, nPositions: 32 };
const tmp = mkdtempSync(join(tmpdir(), 'lt-jobs-'));
const modelDir = join(tmp, 'model');
const textFile = join(tmp, 'corpus.txt');

test.before(async () => {
  await writeGpt2Model(modelDir, SHAPE, 1);
  const lines = Array.from({ length: 200 }, (_, i) => `function f${i}(x) { return x * ${i} + ${i % 7}; }`);
  writeFileSync(textFile, lines.join('\n'));
});

function spec(name: string, extra: Partial<TrainSpec> = {}): TrainSpec {
  return {
    modelDir,
    data: [textFile],
    mode: 'lora',
    steps: 6,
    batchTokens: 64,
    seqLen: 16,
    microBatchTokens: 64,
    checkpointEvery: 3,
    evalEvery: 0,
    threads: 1,
    outDir: join(tmp, name),
    ...extra,
  };
}

const WORKER_OPTIONS = {
  workerPath: WORKER,
  execArgv: ['--import', 'tsx'],
  env: { LOCALTUNE_HEARTBEAT_MS: '100' },
  stopTimeoutMs: 60_000,
};

function options(s: TrainSpec): WorkerJobOptions {
  return { ...WORKER_OPTIONS, job: { kind: 'train', spec: s } };
}

/** Resolves with the first message that matches. */
function waitFor<T extends WorkerMessage['type']>(
  job: WorkerJob,
  type: T,
  pred: (m: WorkerMessage & { type: T }) => boolean = () => true,
) {
  return new Promise<WorkerMessage & { type: T }>((resolve) => {
    const off = job.onMessage((m) => {
      if (m.type === type && pred(m as WorkerMessage & { type: T })) {
        off();
        resolve(m as WorkerMessage & { type: T });
      }
    });
  });
}

test('a forked worker streams versioned events: ready, start, steps, checkpoints, heartbeats, done', async () => {
  const s = spec('run-events');
  const job = new WorkerJob(options(s));
  const seen: WorkerMessage[] = [];
  job.onMessage((m) => seen.push(m));
  const outcome = await job.outcome;
  assert.equal(outcome.status, 'finished', JSON.stringify(outcome));
  assert.ok(seen.every((m) => m.v === PROTOCOL_VERSION));
  const types = seen.filter((m) => m.type !== 'heartbeat' && m.type !== 'log').map((m) => m.type);
  assert.deepEqual(types, [
    'ready',
    'start',
    'step',
    'step',
    'step',
    'checkpoint',
    'step',
    'step',
    'step',
    'checkpoint',
    'done',
  ]);
  assert.ok(
    seen.some((m) => m.type === 'heartbeat' && m.rss > 0),
    'heartbeats carry memory',
  );
  const steps = seen.filter((m) => m.type === 'step');
  assert.deepEqual(
    steps.map((m) => m.step),
    [1, 2, 3, 4, 5, 6],
  );
  assert.ok(steps.every((m) => Number.isFinite(m.loss) && m.totalSteps === 6));
  assert.ok(existsSync(join(s.outDir, 'adapter', 'adapter_config.json')));
});

test('stop finishes the step and writes a checkpoint; a resumed job continues from it', async () => {
  const slot = new TrainingSlot(join(tmp, 'ws-stop', '.localtune', 'train.lock'));
  const s = spec('run-stop', { steps: 10_000, checkpointEvery: 0 });
  const job = slot.start(s.outDir, 'stop test', s, WORKER_OPTIONS);
  await waitFor(job, 'step', (m) => m.step >= 2);
  const outcome = await job.stop();
  assert.equal(outcome.status, 'stopped', JSON.stringify(outcome));
  const stoppedAt = outcome.status === 'stopped' ? outcome.done!.step : -1;
  assert.ok(stoppedAt >= 2);
  assert.ok(
    existsSync(
      join(s.outDir, 'checkpoints', `step-${String(stoppedAt).padStart(6, '0')}`, 'trainer_state.json'),
    ),
  );
  const summary = summarizeRun(s.outDir);
  assert.equal(summary.status, 'stopped');
  assert.equal(summary.resumable, true);
  assert.equal(summary.step, stoppedAt);

  const resumed = slot.start(
    s.outDir,
    'stop test',
    { ...s, steps: stoppedAt + 2, resumeFrom: s.outDir },
    WORKER_OPTIONS,
  );
  const start = await waitFor(resumed, 'start');
  assert.equal(start.startStep, stoppedAt);
  const end = await resumed.outcome;
  assert.equal(end.status, 'finished', JSON.stringify(end));
  assert.equal(end.status === 'finished' && end.done!.step, stoppedAt + 2);
  assert.equal(summarizeRun(s.outDir).status, 'finished');
});

test('SIGKILL is reported as a kill, run.json says failed, and the last checkpoint survives', async () => {
  const slot = new TrainingSlot(join(tmp, 'ws-kill', '.localtune', 'train.lock'));
  const s = spec('run-kill', { steps: 10_000, checkpointEvery: 2 });
  const job = slot.start(s.outDir, 'kill test', s, WORKER_OPTIONS);
  const ckpt = await waitFor(job, 'checkpoint');
  process.kill(job.pid!, 'SIGKILL');
  const outcome = await job.outcome;
  assert.equal(outcome.status, 'failed');
  assert.ok(outcome.status === 'failed' && outcome.cause === 'killed' && outcome.signal === 'SIGKILL');
  assert.match(outcome.status === 'failed' ? outcome.message : '', /killed.*checkpoint is kept/);
  assert.ok(existsSync(join(ckpt.dir, 'trainer_state.json')), 'the checkpoint is intact');
  // run.json is written when the outcome settles; give the then() a turn.
  await new Promise((r) => setImmediate(r));
  assert.equal(readRunRecord(s.outDir)?.status, 'failed');
  assert.equal(summarizeRun(s.outDir).resumable, true);
});

test('a bad model folder comes back as a user error, not a crash', async () => {
  const job = new WorkerJob(options(spec('run-bad', { modelDir: join(tmp, 'nope') })));
  const outcome = await job.outcome;
  assert.equal(outcome.status, 'failed');
  assert.ok(outcome.status === 'failed' && outcome.cause === 'user', JSON.stringify(outcome));
  assert.match(outcome.status === 'failed' ? outcome.message : '', /no such model folder/);
});

test('one training job per workspace: a second request is refused with a message', async () => {
  const slot = new TrainingSlot(join(tmp, 'ws-busy', '.localtune', 'train.lock'));
  const a = spec('run-busy-a', { steps: 10_000, checkpointEvery: 0 });
  const job = slot.start(a.outDir, 'a', a, WORKER_OPTIONS);
  assert.throws(
    () => slot.start(join(tmp, 'run-busy-b'), 'b', spec('run-busy-b'), WORKER_OPTIONS),
    (err: Error) => {
      assert.ok(err instanceof JobBusyError);
      assert.match(err.message, /already running in this workspace \(run-busy-a\)/);
      return true;
    },
  );
  // Another window sees the lock file.
  const otherWindow = new TrainingSlot(join(tmp, 'ws-busy', '.localtune', 'train.lock'), -1);
  assert.equal(otherWindow.foreignRun(), a.outDir);
  assert.throws(
    () => otherWindow.start(join(tmp, 'run-busy-c'), 'c', spec('run-busy-c'), WORKER_OPTIONS),
    JobBusyError,
  );
  await job.kill();
});

test('the worker stops cleanly, with a checkpoint, when the host goes away (IPC disconnect)', async () => {
  const s = spec('run-disconnect', { steps: 10_000, checkpointEvery: 0 });
  const child = fork(WORKER, [], {
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
  });
  const exited = new Promise<[number | null, string | null]>((r) =>
    child.on('exit', (c, sig) => r([c, sig])),
  );
  await new Promise<void>((resolve) => {
    child.on('message', (m: WorkerMessage) => {
      if (m.type === 'ready')
        child.send({ v: PROTOCOL_VERSION, type: 'start', job: { kind: 'train', spec: s } });
      if (m.type === 'step' && m.step >= 2) resolve();
    });
  });
  child.disconnect();
  const [code, signal] = await exited;
  assert.equal(signal, null);
  assert.equal(code, 0);
  const summary = summarizeRun(s.outDir);
  assert.ok(summary.checkpoints.length >= 1, 'a checkpoint was written on the way out');
  assert.ok(summary.checkpoints.at(-1)!.step >= 2);
});
