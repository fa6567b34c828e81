/**
 * The command the user started is the only process to stop (`train` relaunches itself once with
 * tuned malloc settings: the child must die with it), one writer per output folder, and a closed
 * stdout does not end a run. Real processes of the built CLI (`node scripts/build.mjs` first).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { lockFileOf } from '../../src/engine/formats/lock';
import { listCheckpoints } from '../../src/engine/train/checkpoint';
import { writeGpt2Model } from '../../fixtures/tinyModel';
import { SHAPE, TINY_TRAIN, until } from './fixtures';

const CLI = join(__dirname, '..', '..', 'dist', 'cli.js');
const root = mkdtempSync(join(tmpdir(), 'lt-proc-'));
const model = join(root, 'model');
const text = join(root, 'code.txt');
const workspace = join(root, 'workspace');

test.before(async () => {
  assert.ok(existsSync(CLI), 'build the CLI first: node scripts/build.mjs');
  await writeGpt2Model(model, SHAPE, 1);
  writeFileSync(text, 'def add(a, b):\n    return a + b\n'.repeat(60));
  spawnSync('mkdir', ['-p', workspace]);
  for (let i = 0; i < 6; i++)
    writeFileSync(join(workspace, `m${i}.py`), `def f${i}(x):\n    return x + ${i}\n`.repeat(10));
});

/** A training run long enough to be killed: the user's process. */
// As a user's shell starts it: without the allocator settings npm test sets, so the CLI relaunches
// itself with them (the parent/child pair these tests are about).
const { MALLOC_MMAP_MAX_: _mmap, MALLOC_TRIM_THRESHOLD_: _trim, ...userEnv } = process.env;

function longTrain(out: string, env: NodeJS.ProcessEnv = userEnv): ChildProcess {
  return spawn(
    process.execPath,
    [CLI, 'train', '--model', model, '--data', text, '--out', out, '--steps', '100000', ...TINY_TRAIN],
    { stdio: ['ignore', 'pipe', 'pipe'], env },
  );
}

/** The relaunched training process under `parent` (pid), once it exists. */
function childOf(parent: number): number | undefined {
  const r = spawnSync('pgrep', ['-P', String(parent)], { encoding: 'utf8' });
  const pid = Number(r.stdout.trim().split('\n')[0]);
  return pid > 0 ? pid : undefined;
}

/** Running (not gone, not a zombie waiting to be reaped). */
function running(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

for (const signal of ['SIGKILL', 'SIGTERM'] as const)
  test(
    `${signal} to the process the user started stops the training child within two seconds`,
    { timeout: 120_000 },
    async () => {
      const out = join(root, `killed-${signal}`);
      const user = longTrain(out);
      let child: number | undefined;
      try {
        await until(
          () => (child = childOf(user.pid!)) !== undefined && existsSync(lockFileOf(out)),
          60_000,
          'the training child',
        );
        user.kill(signal);
        const killedAt = Date.now();
        await until(() => !running(child!), 2_000, `child ${child} to stop`);
        console.log(`# ${signal}: child gone after ${Date.now() - killedAt} ms`);
      } finally {
        // A failed run must not leave a 100000-step training behind.
        user.kill('SIGKILL');
        if (child && running(child)) process.kill(child, 'SIGKILL');
      }
    },
  );

test(
  'a train started with part of the allocator settings relaunches itself with all of them',
  { timeout: 120_000 },
  async () => {
    const out = join(root, 'partly-tuned');
    // MALLOC_MMAP_MAX_ set by the user, huge pages not asked for: the child must get them.
    const { GLIBC_TUNABLES: _tunables, ...rest } = userEnv;
    const user = longTrain(out, { ...rest, MALLOC_MMAP_MAX_: '0' });
    let child: number | undefined;
    try {
      await until(() => (child = childOf(user.pid!)) !== undefined, 60_000, 'the training child');
      const env = readFileSync(`/proc/${child}/environ`, 'utf8').split('\0');
      assert.ok(env.includes('GLIBC_TUNABLES=glibc.malloc.hugetlb=1'), env.join(' '));
      assert.ok(env.includes('MALLOC_TRIM_THRESHOLD_=68719476736'));
      assert.ok(env.includes('MALLOC_MMAP_MAX_=0'));
    } finally {
      user.kill('SIGKILL');
      if (child && running(child)) process.kill(child, 'SIGKILL');
    }
  },
);

test(
  'two trains into one --out: the second is refused naming the first one’s pid',
  { timeout: 120_000 },
  async () => {
    const out = join(root, 'shared-run');
    const first = longTrain(out);
    try {
      await until(() => existsSync(lockFileOf(out)), 60_000, 'the first run’s lock');
      const holder = (JSON.parse(readFileSync(lockFileOf(out), 'utf8')) as { pid: number }).pid;
      const second = spawnSync(
        process.execPath,
        [CLI, 'train', '--model', model, '--data', text, '--out', out, '--steps', '1', ...TINY_TRAIN],
        {
          encoding: 'utf8',
          timeout: 60_000,
        },
      );
      assert.equal(second.status, 2);
      const lines = second.stderr.trim().split('\n');
      assert.equal(lines.length, 1, second.stderr);
      assert.match(lines[0], new RegExp(`in use by process ${holder} \\(localtune train`));
    } finally {
      first.kill('SIGKILL');
    }
  },
);

test(
  'two dataset builds into one --out: the second is refused naming the first, which finishes',
  { timeout: 300_000 },
  async () => {
    const big = join(root, 'big-workspace');
    spawnSync('mkdir', ['-p', big]);
    for (let i = 0; i < 1500; i++)
      writeFileSync(
        join(big, `f${i}.py`),
        `def g${i}(items):\n    return [x * ${i} for x in items if x > ${i % 7}]\n`.repeat(30),
      );
    const out = join(root, 'shared-dataset');
    const args = [CLI, 'dataset', 'build', '--from', big, '--model', model, '--out', out];
    const first = spawn(process.execPath, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    const firstDone = new Promise<number | null>((done) => first.on('exit', done));
    await until(() => existsSync(lockFileOf(out)), 60_000, 'the first build’s lock');
    const second = spawnSync(process.execPath, args, { encoding: 'utf8', timeout: 120_000 });
    const stillRunning = first.exitCode === null;
    assert.equal(second.status, 2, second.stderr);
    assert.match(
      second.stderr.trim(),
      new RegExp(`^error: .*in use by process ${first.pid} \\(localtune dataset build`),
    );
    assert.ok(stillRunning, 'the first build was still running when the second was refused');
    assert.equal(await firstDone, 0);
    assert.ok(existsSync(join(out, 'manifest.json')));
  },
);

test(
  'dataset build into a folder another live process holds is refused; once it is gone, its stale lock is taken over',
  { timeout: 120_000 },
  async () => {
    const out = join(root, 'dataset');
    const holder = spawn('sleep', ['60']);
    writeFileSync(
      lockFileOf(out),
      JSON.stringify({ pid: holder.pid, what: 'localtune dataset build', since: 'now' }),
    );
    const build = () =>
      spawnSync(
        process.execPath,
        [CLI, 'dataset', 'build', '--from', workspace, '--model', model, '--out', out],
        {
          encoding: 'utf8',
          timeout: 60_000,
        },
      );
    const refused = build();
    assert.equal(refused.status, 2);
    assert.match(
      refused.stderr.trim(),
      new RegExp(`^error: .*in use by process ${holder.pid} \\(localtune dataset build`),
    );
    assert.ok(!existsSync(out), 'nothing written');
    holder.kill('SIGKILL');
    await until(() => !running(holder.pid!), 5_000, 'the holder to end');
    const taken = build();
    assert.equal(taken.status, 0, taken.stderr);
    assert.ok(existsSync(join(out, 'manifest.json')));
    assert.ok(!existsSync(lockFileOf(out)), 'released after the build');
  },
);

test('train | head -1: no EPIPE, the run finishes and keeps its checkpoint', { timeout: 120_000 }, () => {
  const out = join(root, 'piped');
  const r = spawnSync(
    'bash',
    [
      '-c',
      `"${process.execPath}" "${CLI}" train --model "${model}" --data "${text}" --out "${out}" --steps 3 ${TINY_TRAIN.join(' ')} | head -1; echo "status \${PIPESTATUS[0]}" >&2`,
    ],
    { encoding: 'utf8', timeout: 100_000 },
  );
  assert.match(r.stdout, /^step 1\/3/);
  assert.equal(r.stdout.trim().split('\n').length, 1);
  assert.doesNotMatch(r.stderr, /EPIPE|Error|at /);
  assert.match(r.stderr, /status 0/);
  assert.equal(listCheckpoints(out).length, 1);
  assert.ok(existsSync(join(out, 'adapter', 'adapter_model.safetensors')));
});
