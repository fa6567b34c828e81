/**
 * The pre-flight estimate of a training run: tokens, epochs, steps, time and peak memory, from a
 * calibration measured on this machine — a few real optimizer steps of the actual model at the
 * chosen shape, timed (run in the worker, cached per model and shape) — and warnings when the
 * dataset is too small for the steps asked or the memory exceeds what the machine has.
 */
import { mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { train } from '../engine/train/trainer';
import { trainOptionsFrom, TRAIN_DEFAULTS, type TrainSpec } from './trainSpec';

export interface Calibration {
  /** calibrationKey(spec): the model and every setting that changes a step's cost. */
  key: string;
  /** Seconds per optimizer step, steady state (the first step warms up and is left out). */
  stepSeconds: number;
  /** Loading the model and data, building the graph and the session, the first step's warm-up. */
  setupSeconds: number;
  /** One evaluation during training (its own forward-only session), timed; 0 when the spec evaluates never. */
  evalSeconds: number;
  /** The worker's peak resident memory while it trained and evaluated (bytes). */
  peakBytes: number;
  /** Training and validation tokens of the data, as the trainer read it. */
  trainTokens: number;
  validationTokens: number;
  /** Sequence length the trainer used (the spec's, or the model's context-capped default). */
  seqLen: number;
  measuredAt: string;
}

/** Steps timed per calibration: the first warms up, the others are measured. */
const CALIBRATION_STEPS = 3;

/** What a calibration depends on; runs that differ only in steps, lr or schedule share one. */
export function calibrationKey(spec: TrainSpec): string {
  const shape = {
    model: resolve(spec.modelDir),
    data: spec.data.map((d) => resolve(d)),
    mode: spec.mode,
    r: spec.mode === 'lora' ? (spec.loraR ?? TRAIN_DEFAULTS.loraR) : null,
    targets: spec.mode === 'lora' ? (spec.targets ?? null) : null,
    seqLen: spec.seqLen ?? spec.maxSeqLen ?? TRAIN_DEFAULTS.maxSeqLen,
    batchTokens: spec.batchTokens ?? TRAIN_DEFAULTS.batchTokens,
    microBatchTokens: spec.microBatchTokens ?? TRAIN_DEFAULTS.microBatchTokens,
    threads: spec.threads ?? null,
  };
  return JSON.stringify(shape);
}

/**
 * Trains `CALIBRATION_STEPS` real steps of `spec` in a scratch folder and times them. Runs in the
 * worker (it loads the model and runs ONNX Runtime); the scratch folder is removed after.
 */
export async function calibrate(spec: TrainSpec): Promise<Calibration> {
  const scratch = mkdtempSync(join(tmpdir(), 'localtune-calibrate-'));
  const started = performance.now();
  let peak = process.memoryUsage().rss;
  const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 100);
  try {
    const options = await trainOptionsFrom({
      ...spec,
      steps: CALIBRATION_STEPS,
      epochs: undefined,
      // One evaluation at the last step: its session is part of the run's peak memory.
      evalEvery: (spec.evalEvery ?? TRAIN_DEFAULTS.evalEvery) > 0 ? CALIBRATION_STEPS : 0,
      checkpointEvery: 0,
      patience: undefined,
      keepBest: false,
      resumeFrom: undefined,
      outDir: scratch,
    });
    const stepEnds: number[] = [];
    let evalEnd: number | undefined;
    await train(options, {
      onEvent: (e) => {
        peak = Math.max(peak, process.memoryUsage().rss);
        if (e.type === 'step') stepEnds.push(performance.now());
        if (e.type === 'eval') evalEnd = performance.now();
      },
    });
    const steady = (stepEnds.at(-1)! - stepEnds[0]) / 1000 / (stepEnds.length - 1);
    return {
      key: calibrationKey(spec),
      stepSeconds: steady,
      setupSeconds: Math.max(0, (stepEnds[0] - started) / 1000 - steady),
      evalSeconds: evalEnd === undefined ? 0 : (evalEnd - stepEnds.at(-1)!) / 1000,
      peakBytes: peak,
      trainTokens: options.train.ids.length,
      validationTokens: options.validation?.ids.length ?? 0,
      seqLen: options.seqLen,
      measuredAt: new Date().toISOString(),
    };
  } finally {
    clearInterval(sampler);
    rmSync(scratch, { recursive: true, force: true });
  }
}

export interface Estimate {
  trainTokens: number;
  steps: number;
  epochs: number;
  /** Wall time of the whole run: setup, the steps, the evaluations during training. */
  seconds: number;
  peakBytes: number;
  /** One line each: the dataset is too small for the steps asked, memory exceeds the machine's. */
  warnings: string[];
}

/** Memory the machine has: total, and free now. */
export interface MachineMemory {
  total: number;
  free: number;
}

/** An evaluation runs the forward pass only: about a third of a training step's work per token. */
const FORWARD_SHARE = 1 / 3;
/** More passes over the data than this and a small dataset is being memorized, not learned from. */
const MAX_SENSIBLE_EPOCHS = 4;

export function estimateRun(spec: TrainSpec, cal: Calibration, memory: MachineMemory): Estimate {
  const batchTokens = spec.batchTokens ?? TRAIN_DEFAULTS.batchTokens;
  const seqLen = cal.seqLen;
  const windows = Math.max(0, Math.floor((cal.trainTokens - 1) / seqLen));
  const rowsPerStep = batchTokens / seqLen;
  const steps = spec.steps ?? Math.max(1, Math.ceil(((spec.epochs ?? 1) * windows) / rowsPerStep));
  const epochs = windows > 0 ? (steps * rowsPerStep) / windows : Infinity;
  const evalEvery = spec.evalEvery ?? TRAIN_DEFAULTS.evalEvery;
  const evaluations = cal.validationTokens > 1 && evalEvery > 0 ? Math.floor(steps / evalEvery) : 0;
  // The first evaluation builds its scoring session (the measured cost); later ones run the
  // forward pass only, about a third of a training step's work per token.
  const evalTokens = Math.min(spec.evalTokens ?? TRAIN_DEFAULTS.evalTokens, cal.validationTokens);
  const laterEval = (evalTokens / batchTokens) * cal.stepSeconds * FORWARD_SHARE;
  const evalSeconds = evaluations > 0 ? cal.evalSeconds + (evaluations - 1) * laterEval : 0;
  const seconds = cal.setupSeconds + steps * cal.stepSeconds + evalSeconds;
  const warnings: string[] = [];
  if (windows === 0)
    warnings.push(
      `The dataset holds ${cal.trainTokens} training tokens: fewer than one sequence of ${seqLen}.`,
    );
  else if (epochs > MAX_SENSIBLE_EPOCHS)
    warnings.push(
      `The dataset is too small for ${steps} steps: ${epochs.toFixed(1)} passes over ${cal.trainTokens} training tokens will memorize it. Use fewer steps or more data.`,
    );
  if (cal.validationTokens <= 1)
    warnings.push('The dataset has no held-out split: nothing will say whether training helped.');
  if (cal.peakBytes > memory.total * 0.9)
    warnings.push(
      `Needs about ${gib(cal.peakBytes)} of memory; this machine has ${gib(memory.total)}. Use LoRA, a shorter sequence or a smaller model.`,
    );
  else if (cal.peakBytes > memory.free)
    warnings.push(
      `Needs about ${gib(cal.peakBytes)} of memory; ${gib(memory.free)} is free now. Close other programs first, or it will swap.`,
    );
  return { trainTokens: cal.trainTokens, steps, epochs, seconds, peakBytes: cal.peakBytes, warnings };
}

function gib(bytes: number): string {
  return `${(bytes / 2 ** 30).toFixed(1)} GiB`;
}

/** Calibrations by key, in one JSON file (`.localtune/estimates.json`): measured once per model and shape. */
export function cachedCalibration(cacheFile: string, key: string): Calibration | undefined {
  try {
    const all = JSON.parse(readFileSync(cacheFile, 'utf8')) as Record<string, Calibration>;
    return all[key];
  } catch {
    return undefined;
  }
}

export function cacheCalibration(cacheFile: string, cal: Calibration): void {
  let all: Record<string, Calibration> = {};
  try {
    all = JSON.parse(readFileSync(cacheFile, 'utf8')) as Record<string, Calibration>;
  } catch {
    // first one, or a torn file: start over
  }
  all[cal.key] = cal;
  mkdirSync(dirname(cacheFile), { recursive: true });
  const tmp = `${cacheFile}.tmp-${process.pid}`;
  writeFileSync(tmp, JSON.stringify(all, null, 2) + '\n');
  renameSync(tmp, cacheFile);
}
