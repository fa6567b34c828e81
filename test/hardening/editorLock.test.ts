/**
 * The editor's training worker and the CLI lock one output folder the same way: a CLI run and an
 * editor run into one folder refuse each other with one line naming the holder's pid. Real
 * processes: the built CLI (`node scripts/build.mjs` first) and the bundled worker started as the
 * extension starts it (TrainingSlot.startDetached: launcher, then a detached trainer reading run.json).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { lockFileOf } from '../../src/engine/formats/lock';
import { readRunRecord } from '../../src/jobs/runs';
import { TrainingSlot } from '../../src/jobs/trainJob';
import type { TrainSpec } from '../../src/jobs/trainSpec';
import { writeGpt2Model } from '../../fixtures/tinyModel';
import { SHAPE, TINY_TRAIN, until } from './fixtures';

const DIST = join(__dirname, '..', '..', 'dist');
const CLI = join(DIST, 'cli.js');
const WORKER = join(DIST, 'worker', 'train.js');
const root = mkdtempSync(join(tmpdir(), 'lt-editor-lock-'));
const model = join(root, 'model');
const text = join(root, 'code.txt');

test.before(async () => {
  assert.ok(existsSync(CLI) && existsSync(WORKER), 'build first: node scripts/build.mjs');
  await writeGpt2Model(model, SHAPE, 1);
  writeFileSync(text, 'def add(a, b):\n    return a + b\n'.repeat(60));
});

const holderPid = (out: string) => (JSON.parse(readFileSync(lockFileOf(out), 'utf8')) as { pid: number }).pid;

function spec(out: string, steps: number): TrainSpec {
  return {
    modelDir: model,
    data: [text],
    mode: 'lora',
    steps,
    seqLen: 16,
    batchTokens: 32,
    microBatchTokens: 32,
    evalEvery: 0,
    threads: 1,
    outDir: out,
  };
}

/** An editor training run as the extension starts it; returns the detached trainer's pid. */
function editorTrain(workspace: string, out: string, steps: number): number {
  mkdirSync(workspace, { recursive: true });
  return TrainingSlot.forWorkspace(workspace).startDetached(out, 'editor run', spec(out, steps), {
    workerPath: WORKER,
    leaseMs: 600_000,
  });
}

test(
  'a CLI train into a folder the editor trains is refused with one line naming the editor’s worker',
  { timeout: 180_000 },
  async () => {
    const out = join(root, 'editor-first');
    const pid = editorTrain(join(root, 'ws1'), out, 100_000);
    try {
      await until(() => existsSync(lockFileOf(out)), 60_000, 'the editor worker’s lock');
      assert.equal(holderPid(out), pid, 'the detached trainer holds the lock');
      const cli = spawnSync(
        process.execPath,
        [CLI, 'train', '--model', model, '--data', text, '--out', out, '--steps', '1', ...TINY_TRAIN],
        { encoding: 'utf8', timeout: 60_000 },
      );
      assert.equal(cli.status, 2, cli.stderr);
      const lines = cli.stderr.trim().split('\n');
      assert.equal(lines.length, 1, cli.stderr);
      assert.match(lines[0], new RegExp(`in use by process ${pid} \\(LocalTune editor training`));
      assert.equal(readRunRecord(out)?.status, 'running', 'the editor’s run goes on');
    } finally {
      process.kill(pid, 'SIGKILL');
    }
  },
);

test(
  'an editor run into a folder a CLI train holds fails with the CLI’s pid in run.json; the CLI run is untouched',
  { timeout: 180_000 },
  async () => {
    const out = join(root, 'cli-first');
    const cli = spawn(
      process.execPath,
      [CLI, 'train', '--model', model, '--data', text, '--out', out, '--steps', '100000', ...TINY_TRAIN],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    try {
      await until(() => existsSync(lockFileOf(out)), 60_000, 'the CLI run’s lock');
      const holder = holderPid(out);
      editorTrain(join(root, 'ws2'), out, 2);
      await until(() => readRunRecord(out)?.status === 'failed', 60_000, 'the editor run to be refused');
      const record = readRunRecord(out)!;
      assert.equal(record.error?.cause, 'user');
      assert.equal(record.error?.message.split('\n').length, 1);
      assert.match(record.error!.message, new RegExp(`in use by process ${holder} \\(localtune train`));
      assert.equal(holderPid(out), holder, 'the CLI keeps its lock');
      assert.equal(cli.exitCode, null, 'the CLI run goes on');
    } finally {
      cli.kill('SIGKILL');
    }
  },
);
