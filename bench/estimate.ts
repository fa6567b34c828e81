/**
 * The pre-flight estimate against the real run, on two model sizes: for each, the estimate as the
 * Fine-tune form makes it (a calibration of a few timed steps, src/jobs/estimate.ts), then the real
 * training run of N steps through the same code the worker runs; it prints their wall times, the
 * error, each phase predicted against measured (setup and first step, later steps, evaluations,
 * checkpoint writes, final write: counts and seconds, by src/jobs/phaseTimes.ts on both sides, so
 * an error shows where it comes from), the calibration's peak memory and the run's, and the
 * machine's load average beside them.
 *
 *   npx tsx bench/estimate.ts [--steps N]
 *
 * Each side runs in its own child process (so memory and warm-up are its own), with the worker's
 * glibc settings. Prints ONE JSON document on stdout; progress on stderr.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { cpus, freemem, loadavg, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { writeGpt2Model, type Gpt2Shape } from '../fixtures/tinyModel';
import { WORKER_ENV } from '../src/jobs/fork';
import type { Estimate } from '../src/jobs/estimate';
import type { PhaseTimes } from '../src/jobs/phaseTimes';
import type { TrainSpec } from '../src/jobs/trainSpec';

const SIZES: { name: string; shape: Gpt2Shape }[] = [
  { name: 'gpt2-2x128', shape: { nLayer: 2, nHead: 4, nEmbd: 128, nPositions: 256 } },
  { name: 'gpt2-4x256', shape: { nLayer: 4, nHead: 8, nEmbd: 256, nPositions: 256 } },
];

const stepsArg = process.argv.indexOf('--steps');
const STEPS = stepsArg > 0 ? Number(process.argv[stepsArg + 1]) : 30;

/** Child side: `--child estimate|run SPEC_JSON` prints one JSON line. */
async function child(kind: string, spec: TrainSpec): Promise<void> {
  if (kind === 'estimate') {
    const { calibrate, estimateRun } = await import('../src/jobs/estimate');
    const started = performance.now();
    const cal = await calibrate(spec);
    const estimate = estimateRun(spec, cal, { total: totalmem(), free: freemem() });
    const calibrationSeconds = (performance.now() - started) / 1000;
    console.log(JSON.stringify({ estimate, calibration: cal, calibrationSeconds }));
  } else {
    const { trainOptionsFrom } = await import('../src/jobs/trainSpec');
    const { train } = await import('../src/engine/train/trainer');
    const { PhaseTimer } = await import('../src/jobs/phaseTimes');
    const timer = new PhaseTimer();
    let peak = process.memoryUsage().rss;
    let bestWrites = 0;
    const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 100);
    const done = await train(await trainOptionsFrom(spec), {
      onEvent: (e) => {
        timer.onEvent(e);
        if (e.type === 'eval' && e.best) bestWrites++;
      },
    });
    clearInterval(sampler);
    const phases = timer.result();
    console.log(
      JSON.stringify({ seconds: phases.total, steps: done.step, peakBytes: peak, phases, bestWrites }),
    );
  }
}

function inChild(kind: string, spec: TrainSpec): Record<string, unknown> {
  const r = spawnSync(
    process.execPath,
    ['--import', 'tsx', __filename, '--child', kind, JSON.stringify(spec)],
    { env: { ...process.env, ...WORKER_ENV }, encoding: 'utf8', maxBuffer: 1 << 24 },
  );
  if (r.status !== 0) throw new Error(`${kind} failed: ${r.stderr.slice(-2000)}`);
  return JSON.parse(r.stdout.trim().split('\n').at(-1)!) as Record<string, unknown>;
}

async function main(): Promise<void> {
  const tmp = mkdtempSync(join(tmpdir(), 'lt-bench-estimate-'));
  const corpus = join(tmp, 'corpus.txt');
  const lines = Array.from(
    { length: 6000 },
    (_, i) => `export function f${i}(x, y) { return x * ${i % 97} + y / ${(i % 13) + 1}; }`,
  );
  writeFileSync(corpus, lines.join('\n'));
  const load = { before: loadavg() };
  const results = [];
  for (const size of SIZES) {
    const modelDir = join(tmp, size.name);
    await writeGpt2Model(modelDir, size.shape, 1);
    const spec = (outDir: string): TrainSpec => ({
      modelDir,
      data: [corpus],
      mode: 'lora',
      steps: STEPS,
      seqLen: 128,
      batchTokens: 1024,
      microBatchTokens: 1024,
      evalEvery: 10,
      evalTokens: 2048,
      checkpointEvery: 10,
      // Every step runs (the estimate is of the whole run); keep-best stays on, as by default.
      patience: 0,
      outDir: join(tmp, outDir),
    });
    process.stderr.write(`${size.name}: estimating…\n`);
    const est = inChild('estimate', spec(`${size.name}-calibration`)) as {
      estimate: Estimate;
      calibration: { stepSeconds: number; setupSeconds: number };
      calibrationSeconds: number;
    };
    process.stderr.write(`${size.name}: training ${STEPS} steps…\n`);
    const run = inChild('run', spec(`${size.name}-run`)) as {
      seconds: number;
      peakBytes: number;
      phases: PhaseTimes;
      bestWrites: number;
    };
    results.push({
      model: size.name,
      shape: size.shape,
      steps: STEPS,
      estimatedSeconds: est.estimate.seconds,
      measuredSeconds: run.seconds,
      timeError: (est.estimate.seconds - run.seconds) / run.seconds,
      estimatedPeakBytes: est.estimate.peakBytes,
      measuredPeakBytes: run.peakBytes,
      memoryError: (est.estimate.peakBytes - run.peakBytes) / run.peakBytes,
      phases: phasesAgainst(est.estimate.phases, run.phases, run.bestWrites),
      stepSeconds: est.calibration.stepSeconds,
      setupSeconds: est.calibration.setupSeconds,
      calibrationSeconds: est.calibrationSeconds,
    });
  }
  const within = results.every((r) => Math.abs(r.timeError) <= 0.3 && Math.abs(r.memoryError) <= 0.3);
  console.log(
    JSON.stringify(
      { cpus: cpus().length, loadavg: { ...load, after: loadavg() }, withinThirtyPercent: within, results },
      null,
      2,
    ),
  );
}

/** Each phase: predicted and measured count and seconds, and the seconds' share of the time error. */
function phasesAgainst(p: Estimate['phases'], m: PhaseTimes, bestWrites: number) {
  const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
  const row = (predicted: { count: number; seconds: number }, measured: number[]) => ({
    count: { predicted: predicted.count, measured: measured.length },
    seconds: {
      predicted: predicted.seconds,
      measured: sum(measured),
      off: predicted.seconds - sum(measured),
    },
  });
  const one = (predicted: number, measured: number) => ({
    seconds: { predicted, measured, off: predicted - measured },
  });
  return {
    untilFirstStep: one(p.untilFirstStep, m.untilFirstStep),
    steps: row(p.steps, m.steps),
    evaluations: {
      ...row(p.evaluations, m.evaluations),
      bestWrites: { predicted: p.evaluations.bestWrites, measured: bestWrites },
    },
    checkpoints: row(p.checkpoints, m.checkpoints),
    final: one(p.final, m.final),
  };
}

const childAt = process.argv.indexOf('--child');
if (childAt > 0)
  void child(process.argv[childAt + 1], JSON.parse(process.argv[childAt + 2]) as TrainSpec).catch((e) => {
    console.error(e);
    process.exit(1);
  });
else
  void main().catch((e) => {
    console.error(e);
    process.exit(1);
  });
