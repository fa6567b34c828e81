/**
 * Kill anywhere, resume, same losses: the built CLI trains a tiny model (LoRA with dropout, a
 * checkpoint every step) and is killed with SIGKILL at random moments — the process the user
 * started or the training child it relaunched, during start-up, steps and checkpoint writes —
 * then resumed (or restarted when no checkpoint was written yet) until it finishes. Every finished
 * run's per-step losses must equal an uninterrupted run's exactly. Then the states a kill inside a
 * checkpoint write leaves (a temporary folder, a cut-short newest checkpoint) are made on purpose.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  truncateSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeGpt2Model } from '../../../fixtures/tinyModel';
import { Rng } from '../../../src/engine/rng';
import { listCheckpoints } from '../../../src/engine/train/checkpoint';
import { cli } from '../../cli/capture';

const CLI = join(__dirname, '..', '..', '..', 'dist', 'cli.js');
const STEPS = 6;
const KILLS = 20;
const root = mkdtempSync(join(tmpdir(), 'lt-kill-'));
const model = join(root, 'model');
const text = join(root, 'code.txt');
const FLAGS = () => [
  '--model',
  model,
  '--data',
  text,
  '--steps',
  String(STEPS),
  '--checkpoint-every',
  '1',
  '--lora-dropout',
  '0.1',
  '--seq-len',
  '16',
  '--batch-tokens',
  '32',
  '--micro-batch-tokens',
  '16',
];

let reference: number[] = [];
let referenceMs = 0;

test.before(async () => {
  assert.ok(existsSync(CLI), 'build the CLI first: node scripts/build.mjs');
  await writeGpt2Model(model, { nLayer: 1, nHead: 2, nEmbd: 16, nPositions: 32 }, 1);
  writeFileSync(text, 'def add(a, b):\n    return a + b\nclass Point:\n    x = 1\n'.repeat(40));
  const started = Date.now();
  const r = spawnSync(process.execPath, [CLI, 'train', ...FLAGS(), '--out', join(root, 'reference')], {
    encoding: 'utf8',
  });
  referenceMs = Date.now() - started;
  assert.equal(r.status, 0, r.stderr);
  reference = losses(join(root, 'reference'));
  assert.equal(reference.length, STEPS);
});

function losses(run: string): number[] {
  return readFileSync(join(run, 'metrics.jsonl'), 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as { type: string; step: number; loss: number })
    .filter((e) => e.type === 'step')
    .map((e) => e.loss);
}

function running(pid: number | undefined): boolean {
  if (!pid) return false;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

/** Starts the CLI on `run` (resuming when it has a checkpoint); kills it after `delayMs` unless it ends first. */
async function attempt(run: string, delayMs: number, killChild: boolean): Promise<'finished' | 'killed'> {
  const args = listCheckpoints(run).length ? ['--resume', run] : ['--out', run];
  const p = spawn(process.execPath, [CLI, 'train', ...FLAGS(), ...args], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  p.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number | null>((done) => p.on('exit', (code) => done(code)));
  const timer = new Promise<'timer'>((done) => setTimeout(() => done('timer'), delayMs));
  const first = await Promise.race([exited, timer]);
  if (first !== 'timer') {
    assert.equal(first, 0, `a run that was not killed failed: ${stderr}`);
    return 'finished';
  }
  const child = Number(
    spawnSync('pgrep', ['-P', String(p.pid)], { encoding: 'utf8' })
      .stdout.trim()
      .split('\n')[0],
  );
  if (killChild && child > 0) process.kill(child, 'SIGKILL');
  else p.kill('SIGKILL');
  await exited;
  const end = Date.now() + 5_000;
  while (running(child) && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
  assert.ok(!running(child), 'the training child outlived the kill');
  return 'killed';
}

test(
  `killed ${KILLS}+ times at random moments, every resumed run ends with the uninterrupted run's losses`,
  { timeout: 1_500_000 },
  async () => {
    const rng = new Rng(14);
    let kills = 0;
    let rounds = 0;
    while (kills < KILLS) {
      const run = join(root, `run-${rounds++}`);
      for (let tries = 0; ; tries++) {
        assert.ok(tries < 40, 'the run never finished');
        // Anywhere in a whole run's time: start-up, steps, checkpoint writes, the final adapter;
        // a quarter more, as load stretches a resumed run's start-up, final evaluation and write.
        const delay = 200 + rng.next() * referenceMs * 1.25;
        const killChild = rng.next() < 0.5;
        const outcome = await attempt(run, delay, killChild);
        if (outcome === 'finished') break;
        kills++;
      }
      assert.deepEqual(losses(run), reference, `round ${rounds}: losses after resuming differ`);
      assert.ok(existsSync(join(run, 'adapter', 'adapter_model.safetensors')));
      assert.deepEqual(
        readdirSync(join(run, 'checkpoints')).filter((n) => n.includes('.tmp-')),
        [],
        'no temporary checkpoint left',
      );
    }
    console.log(`# ${kills} kills over ${rounds} runs (uninterrupted run: ${referenceMs} ms)`);
  },
);

test(
  'a kill inside a checkpoint write: the temporary folder is removed and a cut-short newest checkpoint is passed over, with a message',
  { timeout: 300_000 },
  async () => {
    const run = join(root, 'half-written');
    cpSync(join(root, 'reference'), run, { recursive: true });
    const [, middle, newest] = listCheckpoints(run);
    // What a kill during the next write leaves: a temporary folder with part of a checkpoint.
    const tmp = join(run, 'checkpoints', `step-000007.tmp-999999`);
    mkdirSync(tmp);
    writeFileSync(join(tmp, 'adapter_config.json'), '{"peft_type": "LO');
    // And a newest checkpoint cut short (a disk that filled up, a copy interrupted).
    truncateSync(join(newest, 'optimizer.safetensors'), 100);
    const r = await cli('train', ...FLAGS(), '--resume', run);
    assert.equal(r.code, 0, r.err.join('\n'));
    assert.ok(
      r.err.some((l) =>
        /step-000006 is incomplete .*resuming from step-000005, the newest complete one/.test(l),
      ),
      r.err.join('\n'),
    );
    assert.ok(r.err.some((l) => l.includes(`removed ${tmp}`)));
    assert.ok(!existsSync(tmp));
    assert.match(
      r.out.find((l) => l.startsWith('step '))!,
      /^step 6\/6/,
    );
    assert.deepEqual(losses(run), reference);
    assert.ok(existsSync(middle));
  },
);

test(
  '--resume RUN/checkpoints/step-N writes into RUN, never inside the checkpoint folder',
  { timeout: 300_000 },
  async () => {
    const run = join(root, 'from-checkpoint');
    cpSync(join(root, 'reference'), run, { recursive: true });
    const checkpoint = listCheckpoints(run)[0]; // step 4
    const before = readdirSync(checkpoint).sort();
    const r = await cli('train', ...FLAGS(), '--resume', checkpoint);
    assert.equal(r.code, 0, r.err.join('\n'));
    assert.deepEqual(readdirSync(checkpoint).sort(), before);
    assert.match(r.out.at(-1)!, new RegExp(`adapter in ${join(run, 'adapter')}`));
    assert.deepEqual(losses(run), reference);
  },
);
