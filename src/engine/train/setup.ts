/**
 * A run's start: the train-step graph with fresh trainables and optimizer, or (resuming) the
 * checkpoint's values, moments and data position; then the run folder, the session and the buffers.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Trainable } from '../models/params';
import { createSessionReleasing } from '../onnx/session';
import { AdamW, ADAMW_DEFAULTS } from './adamw';
import { accumulates, allocStepBuffers } from './batch';
import { readCheckpoint, removeTemporaries, resolveCheckpoint, type TrainerState } from './checkpoint';
import type { TrainEvent } from './events';
import { buildLmGraph } from './lmGraph';
import type { TrainOptions } from './options';
import { truncateMetrics } from './outputs';
import type { RunPlan } from './plan';
import type { Run } from './run';
import { fromStored } from '../models/layout';

export async function setUpRun(o: TrainOptions, plan: RunPlan, emit: (e: TrainEvent) => void): Promise<Run> {
  const log = (message: string) => emit({ type: 'log', level: 'warn', message });
  // The run folder is this run's alone (its writer holds the lock): what a killed writer left goes.
  for (const dir of removeTemporaries(o.outDir)) log(`removed ${dir}, left half-written by a stopped run`);
  const { model, usesDropout, trainables, values, adam, state } = startingPoint(o, plan, log);
  mkdirSync(o.outDir, { recursive: true });
  truncateMetrics(join(o.outDir, 'metrics.jsonl'), state.step);
  const session = await createSessionReleasing(model, { threads: o.threads });
  const trainableCount = trainables.reduce((a, t) => a + t.initial.length, 0);
  emit({
    type: 'start',
    totalSteps: plan.totalSteps,
    startStep: state.step,
    trainable: trainableCount,
    mode: o.mode,
    baseDtype: o.baseDtype ?? 'fp32',
    trainWindows: plan.windows.count,
    seqLen: o.seqLen,
  });
  const buffers = allocStepBuffers(usesDropout, trainables, plan, o.seqLen);
  return { o, plan, emit, trainables, values, adam, state, session, buffers, started: Date.now() };
}

function startingPoint(
  o: TrainOptions,
  plan: RunPlan,
  log: (message: string) => void,
): {
  /** The serialized train-step graph (the graph itself is not kept: it holds frozen weights). */
  model: { bytes: Uint8Array };
  usesDropout: boolean;
  trainables: Trainable[];
  values: Float32Array[];
  adam: AdamW;
  state: TrainerState;
} {
  // Resume: trainable values, optimizer moments and data position from the newest checkpoint.
  const resumed = o.resumeFrom
    ? readCheckpoint(resolveCheckpoint(o.resumeFrom, log), plan.format)
    : undefined;
  const loraValues =
    resumed && o.mode === 'lora' ? new Map([...resumed.values].map(([k, v]) => [k, v.data])) : o.initialLora;
  const { graph, trainables } = buildLmGraph(o.model, {
    mode: o.mode,
    lora: o.lora,
    seed: o.seed,
    loraValues,
    baseDtype: o.baseDtype,
    int8Except: o.int8Except,
    withGradients: true,
    accumulates: accumulates(plan),
  });
  // The run updates its values in place. Arrays read from files are the run's own (no second
  // copy of a full model's weights); LoRA starting values may be the caller's, so they are copied.
  const values = trainables.map((t) => {
    const stored = resumed?.values.get(t.name)?.data;
    if (stored) return fromStored(t, stored);
    return o.mode === 'full' ? t.initial : Float32Array.from(t.initial);
  });
  const adam = new AdamW(
    trainables.map((t) => t.initial.length),
    { ...ADAMW_DEFAULTS, weightDecay: o.weightDecay },
  );
  const state: TrainerState = resumed?.state ?? {
    step: 0,
    position: { epoch: 0, index: 0 },
    adamSteps: 0,
    bestEvalLoss: null,
    bestStep: null,
    evalsSinceBest: 0,
  };
  if (resumed) {
    resumed.m.forEach((m, k) => adam.m[k].set(fromStored(trainables[k], m)));
    resumed.v.forEach((v, k) => adam.v[k].set(fromStored(trainables[k], v)));
    adam.t = state.adamSteps;
  }
  const usesDropout = graph.inputs.some((t) => t.name === 'dropout_seed');
  return { model: { bytes: graph.toBytes() }, usesDropout, trainables, values, adam, state };
}
