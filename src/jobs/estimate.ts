/**
 * The pre-flight estimate of a training run: tokens, epochs, steps, time and peak memory, from a
 * calibration measured on this machine — a few real optimizer steps of the actual model at the
 * chosen shape, with an evaluation and checkpoints, timed phase by phase (run in the worker, cached
 * per model and shape) — and warnings when the dataset is too small for the steps asked or the
 * memory exceeds what the machine has. The time is the run's phases, each counted as the trainer
 * schedules it and priced by the calibration: setup, steps, evaluations, checkpoints, final write.
 */
import { mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { train } from '../engine/train/trainer';
import { median, PhaseTimer } from './phaseTimes';
import { protectiveSettings } from './trainDefaults';
import { trainOptionsFrom, TRAIN_DEFAULTS, type TrainSpec } from './trainSpec';

export interface Calibration {
  /** calibrationKey(spec): the model and every setting that changes a step's cost. */
  key: string;
  /** Seconds per optimizer step: the median of the steps after the first (which warms up). */
  stepSeconds: number;
  /** Loading the model and data, building the graph and the session, the first step's warm-up. */
  setupSeconds: number;
  /** The first evaluation: it builds its forward-only session. 0 when there is nothing to evaluate. */
  evalSeconds: number;
  /** A later evaluation: the forward passes only. */
  laterEvalSeconds: number;
  /** One checkpoint write (parameters and optimizer state). */
  checkpointSeconds: number;
  /** Writing the final adapter or model; a kept best's write costs the same. */
  finalSeconds: number;
  /** The worker's peak resident memory while it trained and evaluated (bytes). */
  peakBytes: number;
  /** Training and validation tokens of the data, as the trainer read it. */
  trainTokens: number;
  validationTokens: number;
  /** Sequence length the trainer used (the spec's, or the model's context-capped default). */
  seqLen: number;
  measuredAt: string;
}

/**
 * The calibration run: 5 steps, evaluations after steps 3 and 5 (the first builds its session, the
 * second is forward passes only) and checkpoints after steps 2, 4 and at the end — each phase of a
 * real run timed at least once, and 4 steps after the warm-up for a median that one slow step
 * (another process taking the CPU a moment) does not move.
 */
const CALIBRATION = { steps: 5, evalEvery: 3, checkpointEvery: 2 } as const;

/** What a calibration depends on; runs that differ only in steps, lr or schedule share one. */
export function calibrationKey(spec: TrainSpec): string {
  const shape = {
    // 2: phases timed one by one (older calibrations timed steps and one evaluation only)
    v: 2,
    model: resolve(spec.modelDir),
    data: spec.data.map((d) => resolve(d)),
    mode: spec.mode,
    r: spec.mode === 'lora' ? (spec.loraR ?? TRAIN_DEFAULTS.loraR) : null,
    targets: spec.mode === 'lora' ? (spec.targets ?? null) : null,
    seqLen: spec.seqLen ?? spec.maxSeqLen ?? TRAIN_DEFAULTS.maxSeqLen,
    batchTokens: spec.batchTokens ?? TRAIN_DEFAULTS.batchTokens,
    microBatchTokens: spec.microBatchTokens ?? TRAIN_DEFAULTS.microBatchTokens,
    evalTokens: spec.evalTokens ?? TRAIN_DEFAULTS.evalTokens,
    threads: spec.threads ?? null,
    // Only when int8: the keys of fp32 runs, and their cached calibrations, stay as they were.
    ...(spec.mode === 'lora' && spec.baseDtype === 'int8' ? { baseDtype: 'int8' } : {}),
  };
  return JSON.stringify(shape);
}

/**
 * Trains the calibration run of `spec` in a scratch folder and times its phases. Runs in the
 * worker (it loads the model and runs ONNX Runtime); the scratch folder is removed after.
 */
export async function calibrate(spec: TrainSpec): Promise<Calibration> {
  const scratch = mkdtempSync(join(tmpdir(), 'localtune-calibrate-'));
  const timer = new PhaseTimer();
  let peak = process.memoryUsage().rss;
  const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 100);
  try {
    const options = await trainOptionsFrom({
      ...spec,
      steps: CALIBRATION.steps,
      epochs: undefined,
      // Evaluated whatever the spec's evalEvery: the calibration is shared by runs that evaluate.
      evalEvery: CALIBRATION.evalEvery,
      checkpointEvery: CALIBRATION.checkpointEvery,
      patience: 0,
      keepBest: false,
      resumeFrom: undefined,
      outDir: scratch,
    });
    await train(options, {
      onEvent: (e) => {
        peak = Math.max(peak, process.memoryUsage().rss);
        timer.onEvent(e);
      },
    });
    const t = timer.result();
    const stepSeconds = median(t.steps);
    return {
      key: calibrationKey(spec),
      stepSeconds,
      setupSeconds: Math.max(0, t.untilFirstStep - stepSeconds),
      evalSeconds: t.evaluations[0] ?? 0,
      laterEvalSeconds: t.evaluations[1] ?? t.evaluations[0] ?? 0,
      checkpointSeconds: median(t.checkpoints),
      finalSeconds: t.final,
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

/** A phase's predicted occurrences and their seconds in all. */
export interface PhaseEstimate {
  count: number;
  seconds: number;
}

/** The estimate's time, phase by phase, in the phases PhaseTimer measures a real run in. */
export interface PhasesEstimate {
  /** Setup and the first step. */
  untilFirstStep: number;
  /** The steps after the first. */
  steps: PhaseEstimate;
  /** Evaluations; `bestWrites` of them (at most: each may find a new best) also write the best. */
  evaluations: PhaseEstimate & { bestWrites: number };
  /** Checkpoint writes, the one at the end included. */
  checkpoints: PhaseEstimate;
  final: number;
}

export interface Estimate {
  trainTokens: number;
  steps: number;
  epochs: number;
  /** Wall time of the whole run: the sum of the phases. */
  seconds: number;
  phases: PhasesEstimate;
  peakBytes: number;
  /** One line each: the dataset is too small for the steps asked, memory exceeds the machine's. */
  warnings: string[];
}

/** How often each phase happens in a run of `steps` steps, as the trainer's loop schedules them. */
export function phaseCounts(o: {
  steps: number;
  evalEvery: number;
  checkpointEvery: number;
  /** There is a validation set with at least one sequence. */
  evaluates: boolean;
  keepBest: boolean;
}): { evaluations: number; checkpoints: number; bestWrites: number } {
  // An evaluation every evalEvery steps and one after the last step; a checkpoint every
  // checkpointEvery steps before the last, and one at the end.
  const evaluations = o.evaluates && o.evalEvery > 0 ? Math.ceil(o.steps / o.evalEvery) : 0;
  const checkpoints = (o.checkpointEvery > 0 ? Math.floor((o.steps - 1) / o.checkpointEvery) : 0) + 1;
  return { evaluations, checkpoints, bestWrites: o.keepBest ? evaluations : 0 };
}

/** Memory the machine has: total, and free now. */
export interface MachineMemory {
  total: number;
  free: number;
}

/** More passes over the data than this and a small dataset is being memorized, not learned from. */
const MAX_SENSIBLE_EPOCHS = 4;

export function estimateRun(spec: TrainSpec, cal: Calibration, memory: MachineMemory): Estimate {
  const batchTokens = spec.batchTokens ?? TRAIN_DEFAULTS.batchTokens;
  const seqLen = cal.seqLen;
  const windows = Math.max(0, Math.floor((cal.trainTokens - 1) / seqLen));
  const rowsPerStep = batchTokens / seqLen;
  const steps = spec.steps ?? Math.max(1, Math.ceil(((spec.epochs ?? 1) * windows) / rowsPerStep));
  const epochs = windows > 0 ? (steps * rowsPerStep) / windows : Infinity;
  // The same defaults the run gets (trainOptionsFrom), so the same evaluations and best writes.
  const evaluates = cal.validationTokens > seqLen;
  const guarded = protectiveSettings(spec, { mode: spec.mode, parameters: null, hasValidation: evaluates });
  const counts = phaseCounts({
    steps,
    evalEvery: guarded.evalEvery,
    checkpointEvery: spec.checkpointEvery ?? TRAIN_DEFAULTS.checkpointEvery,
    evaluates,
    keepBest: guarded.keepBest,
  });
  const phases: PhasesEstimate = {
    untilFirstStep: cal.setupSeconds + cal.stepSeconds,
    steps: { count: steps - 1, seconds: (steps - 1) * cal.stepSeconds },
    evaluations: {
      count: counts.evaluations,
      bestWrites: counts.bestWrites,
      seconds:
        counts.evaluations > 0
          ? cal.evalSeconds +
            (counts.evaluations - 1) * cal.laterEvalSeconds +
            counts.bestWrites * cal.finalSeconds
          : 0,
    },
    checkpoints: { count: counts.checkpoints, seconds: counts.checkpoints * cal.checkpointSeconds },
    final: cal.finalSeconds,
  };
  const seconds =
    phases.untilFirstStep +
    phases.steps.seconds +
    phases.evaluations.seconds +
    phases.checkpoints.seconds +
    phases.final;
  const warnings: string[] = [];
  if (windows === 0)
    warnings.push(
      `The dataset holds ${cal.trainTokens} training tokens: fewer than one sequence of ${seqLen}.`,
    );
  else if (epochs > MAX_SENSIBLE_EPOCHS)
    warnings.push(
      `The dataset is too small for ${steps} steps: ${epochs.toFixed(1)} passes over ${cal.trainTokens} training tokens will memorize it. Use fewer steps or more data.`,
    );
  if (!evaluates)
    warnings.push(
      `The dataset has no held-out split of a sequence (${seqLen} tokens) or more: nothing will say whether training helped.`,
    );
  if (cal.peakBytes > memory.total * 0.9)
    warnings.push(
      `Needs about ${gib(cal.peakBytes)} of memory; this machine has ${gib(memory.total)}. Use LoRA, a shorter sequence or a smaller model.`,
    );
  else if (cal.peakBytes > memory.free)
    warnings.push(
      `Needs about ${gib(cal.peakBytes)} of memory; ${gib(memory.free)} is free now. Close other programs first, or it will swap.`,
    );
  return { trainTokens: cal.trainTokens, steps, epochs, seconds, phases, peakBytes: cal.peakBytes, warnings };
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
