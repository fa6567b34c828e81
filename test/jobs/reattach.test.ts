// Training that survives its host: a real leased worker, started outside this process's tree
// (output to worker.log), keeps stepping once its host lets go (a window reload), a host re-attaches through
// the run folder (AttachedRun: new metrics lines become events, Stop is the stop file, run.json says
// how it ended), and a worker whose lease nobody renews (the editor closed) stops by itself with a
// checkpoint.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeGpt2Model } from '../../fixtures/tinyModel';
import { AttachedRun } from '../../src/jobs/attachedRun';
import { HostLease, STOP_FILE } from '../../src/jobs/runControl';
import { isProcessAlive, readMetrics, readRunRecord, summarizeRun } from '../../src/jobs/runs';
import { JobBusyError, TrainingSlot } from '../../src/jobs/trainJob';
import type { TrainSpec } from '../../src/jobs/trainSpec';

const WORKER = join(__dirname, '../../src/jobs/workers/train.ts');
const tmp = mkdtempSync(join(tmpdir(), 'lt-reattach-'));
const modelDir = join(tmp, 'model');
const textFile = join(tmp, 'corpus.txt');

test.before(async () => {
  await writeGpt2Model(modelDir, { nLayer: 1, nHead: 2, nEmbd: 16, nPositions: 32 }, 1);
  const lines = Array.from({ length: 200 }, (_, i) => `function f${i}(x) { return x * ${i} + ${i % 7}; }`);
  writeFileSync(textFile, lines.join('\n'));
});

function spec(name: string): TrainSpec {
  return {
    modelDir,
    data: [textFile],
    mode: 'lora',
    steps: 100_000,
    batchTokens: 64,
    seqLen: 16,
    microBatchTokens: 64,
    checkpointEvery: 0,
    evalEvery: 0,
    threads: 1,
    outDir: join(tmp, name),
  };
}

/**
 * Starts a detached worker as the editor does (TrainingSlot.startDetached: a launcher starts it
 * outside this process's tree), holds its lease until it has taken `steps` steps, then lets go —
 * this host is gone (its window reloads or closes).
 */
async function startAndLeave(s: TrainSpec, leaseMs: number, steps: number): Promise<number> {
  const slot = TrainingSlot.forWorkspace(join(s.outDir, 'ws'));
  const lease = new HostLease(s.outDir, leaseMs);
  const pid = slot.startDetached(s.outDir, s.outDir, s, { workerPath: WORKER, leaseMs });
  assert.equal(readRunRecord(s.outDir)?.pid, pid);
  assert.deepEqual(slot.runningJob(), { runDir: s.outDir, pid });
  assert.throws(
    () => slot.startDetached(s.outDir, 'again', s, { workerPath: WORKER, leaseMs }),
    JobBusyError,
  );
  const deadline = Date.now() + 90_000;
  while (lastStep(s.outDir) < steps && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  lease.dispose();
  return pid;
}

const lastStep = (runDir: string) =>
  readMetrics(runDir).reduce((m, e) => (e.type === 'step' ? Math.max(m, e.step) : m), 0);

test('a leased worker outlives its host; a new host re-attaches, sees new steps, and stops it with a checkpoint', async () => {
  const s = spec('run-reattach');
  const pid = await startAndLeave(s, 60_000, 2);
  const attached = new AttachedRun(s.outDir, pid, { pollMs: 100 });
  const seen: number[] = [];
  let rss = 0;
  attached.onMessage((m) => {
    if (m.type === 'step') seen.push(m.step);
    if (m.type === 'heartbeat') rss = m.rss;
  });
  const deadline = Date.now() + 60_000;
  while (seen.length < 3 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  assert.ok(seen.length >= 3, `steps after the host left reach the new host (${seen.length})`);
  assert.ok(seen[0] > 2, 'only news: the steps before attaching are history');
  assert.ok(isProcessAlive(pid));
  assert.ok(rss > 10 * 2 ** 20, `the worker's memory reaches the dashboard (${rss})`);
  const outcome = await attached.stop();
  assert.equal(outcome.status, 'stopped');
  // The trainer's own done event came through the run folder's events.jsonl.
  assert.ok(outcome.status === 'stopped' && outcome.done?.finalIs, JSON.stringify(outcome));
  assert.ok(!isProcessAlive(pid));
  assert.ok(!existsSync(join(s.outDir, STOP_FILE)), 'the worker clears the stop request');
  const r = summarizeRun(s.outDir);
  assert.equal(r.status, 'stopped');
  assert.ok(r.resumable);
  assert.ok(r.checkpoints.at(-1)!.step >= seen.at(-1)!);
});

test('a worker whose lease nobody renews (the editor closed) stops by itself with a checkpoint', async () => {
  const s = spec('run-lapsed');
  const pid = await startAndLeave(s, 1500, 1);
  const deadline = Date.now() + 60_000;
  while (isProcessAlive(pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
  assert.ok(!isProcessAlive(pid), 'the worker ended once the lease lapsed');
  assert.equal(readRunRecord(s.outDir)?.status, 'stopped');
  assert.ok(summarizeRun(s.outDir).checkpoints.length >= 1);
});

test('a detached worker killed outright is reported as killed, and run.json says failed', async () => {
  const s = spec('run-killed');
  const pid = await startAndLeave(s, 60_000, 1);
  const attached = new AttachedRun(s.outDir, pid, { pollMs: 100 });
  process.kill(pid, 'SIGKILL');
  const outcome = await attached.outcome;
  assert.ok(outcome.status === 'failed' && outcome.cause === 'killed', JSON.stringify(outcome));
  assert.equal(readRunRecord(s.outDir)?.status, 'failed');
  assert.equal(summarizeRun(s.outDir).status, 'failed');
});
