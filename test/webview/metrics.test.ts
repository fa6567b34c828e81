// The dashboard's pure parts: metrics.jsonl parsing, the run columns, downsampling, ETA, CSV.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { toCsv } from '../../webview/csv';
import { downsample } from '../../webview/downsample';
import { etaSeconds, formatBytes, formatDuration, totalElapsed } from '../../webview/eta';
import { parseMetrics, RunSeries } from '../../webview/metrics';
import { lastMetricStep, liveTail } from '../../src/vscode/dashboard/liveTail';
import type { DashboardEvent } from '../../webview/protocol';
import { syntheticRun, toJsonl } from './harness';

test('parseMetrics skips a truncated last line and blank lines', () => {
  const text = toJsonl(syntheticRun(3)) + '\n' + '{"type":"step","step":4,"totalSte';
  const { events, skipped } = parseMetrics(text);
  assert.equal(events.length, 3);
  assert.equal(skipped, 1);
  assert.deepEqual(
    events.map((e) => (e.type === 'step' ? e.step : -1)),
    [1, 2, 3],
  );
});

test('lastMetricStep reads the last complete step or eval line', () => {
  const text = toJsonl(syntheticRun(10, { evalEvery: 5 }));
  assert.equal(lastMetricStep(text), 10);
  assert.equal(lastMetricStep(text + '{"type":"step","st'), 10);
  assert.equal(lastMetricStep(''), -1);
  assert.equal(lastMetricStep('{"type":"log","level":"info","message":"x"}\n'), -1);
});

test('RunSeries: columns, status, and a resume that rewinds the steps', () => {
  const run = new RunSeries('/runs/a', 'a');
  assert.equal(run.status, 'empty');
  run.addAll(syntheticRun(100, { evalEvery: 10 }), false);
  assert.equal(run.points, 110);
  assert.equal(run.lastStep, 100);
  assert.equal(run.status, 'finished'); // history only: the last step is the total
  // resumed from a checkpoint at step 60: the trainer recomputes steps 61.. (and their evals)
  const resumed = syntheticRun(20, { evalEvery: 10, from: 60, seed: 7 }).map((e) =>
    e.type === 'step' ? { ...e, totalSteps: 100 } : e,
  );
  run.add(
    { type: 'start', totalSteps: 100, startStep: 60, trainable: 1, mode: 'lora', trainWindows: 1, seqLen: 8 },
    true,
  );
  run.addAll(resumed, true);
  assert.deepEqual(run.step.slice(55, 65), [56, 57, 58, 59, 60, 61, 62, 63, 64, 65]);
  assert.equal(run.step.length, 80);
  assert.deepEqual(run.evalStep, [10, 20, 30, 40, 50, 60, 70, 80]);
  assert.equal(run.status, 'running');
  run.add({ type: 'done', step: 80, reason: 'stopped', outDir: '', finalDir: '', bestEvalLoss: 1 }, true);
  assert.equal(run.status, 'stopped');
  // A crashed worker is reported by the host, not the trainer: the page stops saying "running".
  run.add(
    {
      type: 'step',
      step: 81,
      totalSteps: 100,
      loss: 1,
      lr: 1e-4,
      gradNorm: 1,
      tokens: 1,
      tokensPerSec: 1,
      elapsed: 1,
    },
    true,
  );
  assert.equal(run.status, 'running');
  run.add({ type: 'done', step: 81, reason: 'failed', outDir: '', finalDir: '', bestEvalLoss: null }, true);
  assert.equal(run.status, 'failed');
  run.add({ type: 'heartbeat', rss: 512 * 2 ** 20 }, true);
  assert.equal(run.memoryBytes, 512 * 2 ** 20);
});

test('RunSeries: an event seen twice is kept once', () => {
  const run = new RunSeries('/runs/a', 'a');
  const events = syntheticRun(10, { evalEvery: 5 });
  run.addAll(events, false);
  run.addAll(events.slice(6), true);
  assert.equal(run.points, 12);
  assert.deepEqual(run.step, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
});

test('liveTail keeps points past the file and the latest lifecycle event of each kind', () => {
  const steps = syntheticRun(6);
  const live: DashboardEvent[] = [
    { type: 'start', totalSteps: 6, startStep: 0, trainable: 1, mode: 'lora', trainWindows: 1, seqLen: 8 },
    { type: 'heartbeat', rss: 1 },
    ...steps.slice(0, 3),
    { type: 'heartbeat', rss: 2 },
    ...steps.slice(3),
  ];
  const tail = liveTail(live, 4);
  assert.deepEqual(
    tail.map((e) => e.type + (e.type === 'step' ? e.step : e.type === 'heartbeat' ? e.rss : '')),
    ['start', 'heartbeat2', 'step5', 'step6'],
  );
});

test('downsample keeps the min and max of every bucket, and the first and last points', () => {
  const n = 100_000;
  const xs = Array.from({ length: n }, (_, i) => i + 1);
  const ys = xs.map((x) => Math.sin(x / 50) + ((x * 7919) % 13) / 13);
  const buckets = 500;
  const d = downsample(xs, ys, buckets);
  assert.ok(d.x.length <= 4 * buckets, `${d.x.length} points`);
  assert.equal(d.x[0], 1);
  assert.equal(d.x.at(-1), n);
  assert.equal(d.y.at(-1), ys[n - 1]);
  for (let i = 1; i < d.x.length; i++) assert.ok(d.x[i] > d.x[i - 1], 'in order, each once');
  const width = (n - 1) / buckets;
  const lo = new Map<number, number>();
  const hi = new Map<number, number>();
  xs.forEach((x, i) => {
    const b = Math.min(buckets - 1, Math.floor((x - 1) / width));
    if (!lo.has(b) || ys[i] < ys[lo.get(b)!]) lo.set(b, i);
    if (!hi.has(b) || ys[i] > ys[hi.get(b)!]) hi.set(b, i);
  });
  const kept = new Set(d.x);
  for (const [b, i] of lo) assert.ok(kept.has(xs[i]) && kept.has(xs[hi.get(b)!]), `bucket ${b}`);
});

test('downsample of a zoomed range: full resolution inside, one neighbour outside', () => {
  const xs = Array.from({ length: 1000 }, (_, i) => i);
  const ys = xs.map((x) => x % 7);
  const d = downsample(xs, ys, 100, 200, 300);
  assert.equal(d.x[0], 199);
  assert.equal(d.x.at(-1), 301);
  assert.equal(d.x.length, 103);
  const few = downsample([1, 2, 3], [1, Number.NaN, 3], 100);
  assert.deepEqual(few, { x: [1, 3], y: [1, 3] });
});

test('etaSeconds from the recent pace, only within the current session', () => {
  const steps = Array.from({ length: 50 }, (_, i) => i + 1);
  assert.equal(
    etaSeconds(
      steps,
      steps.map((s) => s * 2),
      100,
    ),
    100,
  );
  // resumed at step 40: elapsed restarts; pace 0.5 s/step since then
  const elapsed = steps.map((s) => (s <= 40 ? s * 2 : (s - 40) * 0.5));
  assert.equal(etaSeconds(steps, elapsed, 100), 25);
  assert.equal(etaSeconds([1], [1], 100), undefined);
  assert.equal(etaSeconds(steps, elapsed, 50), 0);
  assert.equal(totalElapsed(elapsed), 80 + 5);
  assert.equal(formatDuration(3725), '1h 02m');
  assert.equal(formatDuration(125), '2m 05s');
  assert.equal(formatDuration(undefined), '—');
  assert.equal(formatBytes(512 * 2 ** 20), '512 MB');
});

test('toCsv: one row per step, validation loss on its step, every point kept', () => {
  const a = new RunSeries('/runs/a', 'run, "a"');
  a.addAll(syntheticRun(4, { evalEvery: 2 }), false);
  a.add({ type: 'eval', step: 5, evalLoss: 0.5 }, false);
  const b = new RunSeries('/runs/b', 'b');
  b.addAll(syntheticRun(100_000), false);
  const lines = toCsv([a, b]).trimEnd().split('\n');
  assert.equal(lines[0], 'run,step,loss,eval_loss,lr,grad_norm,tokens,tokens_per_sec,elapsed');
  assert.equal(lines.length, 1 + 5 + 100_000);
  const row = (i: number) => lines[i].slice('"run, ""a""",'.length).split(',');
  assert.ok(lines[1].startsWith('"run, ""a""",1,'));
  assert.equal(row(1)[2], ''); // no eval at step 1
  assert.equal(Number(row(2)[2]), a.evalLoss[0]);
  assert.equal(Number(row(2)[1]), a.loss[1]);
  assert.deepEqual(row(5), ['5', '', '0.5', '', '', '', '', '']);
  assert.ok(lines.at(-1)!.startsWith('b,100000,'));
});
