/**
 * The training loop: one ONNX train-step graph (forward, loss, gradients) run by onnxruntime,
 * AdamW between steps, warmup + cosine schedule, global-norm clipping, micro-batch gradient
 * accumulation, periodic evaluation, atomic checkpoints and exact resume.
 * All batch and gradient buffers are allocated once and reused every step.
 */
import {
  appendFileSync,
  copyFileSync,
  cpSync,
  existsSync,
  mkdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import type { InferenceSession, Tensor as OrtTensor } from 'onnxruntime-node';
import { OptionError, UserError } from '../errors';
import type { LoadedModel } from '../models';
import type { LoraSettings } from '../formats/peft';
import type { Trainable } from '../models/params';
import { createSession, toOrt } from '../onnx/session';
import { AdamW, ADAMW_DEFAULTS, globalNorm } from './adamw';
import { accumulate } from './vectorKernels';
import {
  bestDir,
  listCheckpoints,
  readCheckpoint,
  readCheckpointStep,
  resolveCheckpoint,
  writeBest,
  writeCheckpoint,
  writeTrainables,
  type CheckpointFormat,
  type TrainerState,
} from './checkpoint';
import type { TrainEvent } from './events';
import { buildLmGraph } from './lmGraph';
import { learningRate } from './schedule';
import { Windows, type TokenStream } from './windows';
import { Rng } from '../rng';

export interface TrainOptions {
  model: LoadedModel;
  /** Name recorded in the adapter (base_model_name_or_path). */
  baseModelName: string;
  train: TokenStream;
  validation?: TokenStream;
  mode: 'lora' | 'full';
  lora: LoraSettings;
  /** Optimizer steps; derived from `epochs` when absent. */
  steps?: number;
  epochs?: number;
  lr: number;
  warmupSteps: number;
  minLrRatio: number;
  weightDecay: number;
  clipNorm: number;
  /** Tokens per optimizer step (a multiple of seqLen). */
  batchTokens: number;
  seqLen: number;
  /** Tokens per graph run; smaller micro-batches bound the logits' memory. */
  microBatchTokens: number;
  evalEvery: number;
  /** Upper bound on validation tokens per evaluation. */
  evalTokens: number;
  /**
   * Early stopping: end the run after this many evaluations in a row without a new lowest
   * validation loss (0 or absent: off). Turns on `keepBest` unless it is set to false.
   */
  patience?: number;
  /** Keep the best evaluation's trainables in `<run>/best/`, and make them the final adapter/model. */
  keepBest?: boolean;
  checkpointEvery: number;
  seed: number;
  outDir: string;
  /** A run folder or checkpoint folder to continue from. */
  resumeFrom?: string;
  /** LoRA starting values by graph input name (a loaded adapter), instead of fresh A/B. */
  initialLora?: ReadonlyMap<string, Float32Array>;
  threads?: number;
}

export interface TrainHooks {
  onEvent?(e: TrainEvent): void;
  /** Polled between steps: true stops gracefully after writing a checkpoint. */
  shouldStop?(): boolean;
}

interface Batch {
  rows: number;
  ids: BigInt64Array;
  labels: BigInt64Array;
  weights: Float32Array;
}

function allocBatch(rows: number, seqLen: number): Batch {
  return {
    rows,
    ids: new BigInt64Array(rows * seqLen),
    labels: new BigInt64Array(rows * seqLen),
    weights: new Float32Array(rows * seqLen),
  };
}

function feedsFor(b: Batch, seqLen: number, scale: number, trainables: Trainable[], values: Float32Array[]) {
  const dims = [b.rows, seqLen];
  const feeds: Record<string, ReturnType<typeof toOrt>> = {
    input_ids: toOrt('int64', b.ids, dims),
    labels: toOrt('int64', b.labels, dims),
    loss_weights: toOrt('float32', b.weights, dims),
    loss_scale: toOrt('float32', Float32Array.of(scale), []),
  };
  trainables.forEach((t, k) => (feeds[t.name] = toOrt('float32', values[k], t.shape)));
  return feeds;
}

export async function train(o: TrainOptions, hooks: TrainHooks = {}): Promise<TrainEvent & { type: 'done' }> {
  const emit = (e: TrainEvent) => {
    if (e.type === 'step' || e.type === 'eval')
      appendFileSync(join(o.outDir, 'metrics.jsonl'), JSON.stringify(e) + '\n');
    hooks.onEvent?.(e);
  };
  if (o.batchTokens % o.seqLen !== 0 || o.microBatchTokens % o.seqLen !== 0)
    throw new OptionError(
      ['batchTokens', 'microBatchTokens', 'seqLen'],
      `batchTokens (${o.batchTokens}) and microBatchTokens (${o.microBatchTokens}) must be multiples of seqLen (${o.seqLen})`,
    );
  const context = o.model.family.contextLength(o.model.config);
  if (o.seqLen > context)
    throw new OptionError(
      ['seqLen'],
      `seqLen ${o.seqLen} is longer than the model's context (${context} tokens)`,
    );
  const windows = new Windows(o.train, o.seqLen, o.seed);
  if (windows.count === 0)
    throw new OptionError(
      ['seqLen'],
      `the training data has ${o.train.ids.length} tokens: fewer than one sequence of ${o.seqLen + 1}; add data or lower seqLen`,
    );
  const vocab = o.model.family.vocabSize(o.model.config);
  const maxId = o.train.ids.reduce((a, b) => Math.max(a, b), 0);
  if (maxId >= vocab)
    throw new UserError(
      `the data holds token id ${maxId}, beyond the model's vocabulary (${vocab}): was it tokenized for another model?`,
    );

  const patience = o.patience ?? 0;
  if (!Number.isInteger(patience) || patience < 0)
    throw new OptionError(['patience'], `patience must be a whole number of evaluations (got ${patience})`);
  if (patience > 0 && !(o.validation && o.evalEvery > 0))
    throw new OptionError(
      ['patience', 'evalEvery'],
      'patience needs evaluations: a validation split (a dataset folder, or enough text to hold out) and evalEvery above 0',
    );
  const keepBest = o.keepBest ?? patience > 0;

  const rowsPerStep = o.batchTokens / o.seqLen;
  const rowsPerMicro = Math.min(rowsPerStep, Math.max(1, o.microBatchTokens / o.seqLen));
  const totalSteps = o.steps ?? Math.max(1, Math.ceil(((o.epochs ?? 1) * windows.count) / rowsPerStep));
  const format: CheckpointFormat = {
    mode: o.mode,
    lora: o.lora,
    baseModel: o.baseModelName,
    fanInFanOut: o.model.family.fanInFanOut,
  };

  // Resume: trainable values, optimizer moments and data position from the newest checkpoint.
  const resumed = o.resumeFrom ? readCheckpoint(resolveCheckpoint(o.resumeFrom), format) : undefined;
  const loraValues =
    resumed && o.mode === 'lora' ? new Map([...resumed.values].map(([k, v]) => [k, v.data])) : o.initialLora;
  const { graph, trainables } = buildLmGraph(o.model, {
    mode: o.mode,
    lora: o.lora,
    seed: o.seed,
    loraValues,
    withGradients: true,
  });
  const values = trainables.map((t) => Float32Array.from(resumed?.values.get(t.name)?.data ?? t.initial));
  const grads = trainables.map((t) => new Float32Array(t.initial.length));
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
    resumed.m.forEach((m, k) => adam.m[k].set(m));
    resumed.v.forEach((v, k) => adam.v[k].set(v));
    adam.t = state.adamSteps;
  }

  mkdirSync(o.outDir, { recursive: true });
  truncateMetrics(join(o.outDir, 'metrics.jsonl'), state.step);
  const session = await createSession(graph.toBytes(), { threads: o.threads });
  let evalSession: InferenceSession | undefined;
  const trainableCount = trainables.reduce((a, t) => a + t.initial.length, 0);
  emit({
    type: 'start',
    totalSteps,
    startStep: state.step,
    trainable: trainableCount,
    mode: o.mode,
    trainWindows: windows.count,
    seqLen: o.seqLen,
  });

  const micro = allocBatch(rowsPerMicro, o.seqLen);
  const usesDropout = graph.inputs.some((t) => t.name === 'dropout_seed');
  // ORT writes gradients into these buffers, no allocation per step: the first micro-batch's
  // straight into the step's sums, later ones into a second set that is then added.
  const fetchesInto = (buffers: Float32Array[]) => {
    const fetches: Record<string, OrtTensor | null> = { loss: null };
    trainables.forEach((t, k) => (fetches[`grad.${t.name}`] = toOrt('float32', buffers[k], t.shape)));
    return fetches;
  };
  const firstFetches = fetchesInto(grads);
  const accumulates = rowsPerStep > rowsPerMicro;
  const microGrads = accumulates ? trainables.map((t) => new Float32Array(t.initial.length)) : [];
  const laterFetches = accumulates ? fetchesInto(microGrads) : firstFetches;
  const started = Date.now();
  const checkpoint = () => {
    const dir = writeCheckpoint(
      o.outDir,
      {
        state: { ...state, position: { ...state.position }, adamSteps: adam.t },
        values: valueMap(trainables, values),
        m: adam.m,
        v: adam.v,
      },
      format,
    );
    emit({ type: 'checkpoint', step: state.step, dir });
  };

  let reason: 'finished' | 'stopped' = 'finished';
  let earlyStopped = false;
  while (state.step < totalSteps) {
    if (hooks.shouldStop?.()) {
      reason = 'stopped';
      break;
    }
    const stepStart = Date.now();
    const picked = windows.take(state.position, rowsPerStep);
    let weightTotal = 0;
    for (const w of picked) weightTotal += countWeights(o.train, w, o.seqLen);
    const scale = weightTotal > 0 ? 1 / weightTotal : 0;
    let loss = 0;
    let squares: number | undefined; // Σ g² of the step's gradient, when the last addition computed it
    for (let r0 = 0; r0 < picked.length; r0 += rowsPerMicro) {
      picked
        .slice(r0, r0 + rowsPerMicro)
        .forEach((w, row) => windows.fill(w, row, micro.ids, micro.labels, micro.weights));
      const feeds = feedsFor(micro, o.seqLen, scale, trainables, values);
      // Dropout masks depend on (seed, step, micro-batch) only: a resumed run draws the same ones.
      if (usesDropout)
        feeds.dropout_seed = toOrt(
          'int64',
          BigInt64Array.of(BigInt(dropoutSeed(o.seed, state.step, r0))),
          [],
        );
      const out = await session.run(feeds, r0 === 0 ? firstFetches : laterFetches);
      loss += (out.loss.data as Float32Array)[0];
      if (r0 > 0) squares = microGrads.reduce((sum, d, k) => sum + accumulate(grads[k], d), 0);
    }
    if (!Number.isFinite(loss)) {
      // A checkpoint of exactly these parameters is not good: they just produced this loss.
      const newest = listCheckpoints(o.outDir).at(-1);
      if (newest && readCheckpointStep(newest) === state.step)
        rmSync(newest, { recursive: true, force: true });
      throw new OptionError(
        ['lr'],
        `training loss became ${loss} at step ${state.step + 1}; the last good checkpoint is kept in ${o.outDir}/checkpoints — lower lr and resume`,
      );
    }
    const gradNorm = squares === undefined ? globalNorm(grads) : Math.sqrt(squares);
    const lr = learningRate(state.step, {
      peak: o.lr,
      warmup: o.warmupSteps,
      total: totalSteps,
      minRatio: o.minLrRatio,
    });
    const clip = o.clipNorm > 0 && gradNorm > o.clipNorm ? o.clipNorm / gradNorm : 1;
    adam.step(values, grads, lr, clip);
    state.step++;
    const seconds = (Date.now() - stepStart) / 1000;
    emit({
      type: 'step',
      step: state.step,
      totalSteps,
      loss,
      lr,
      gradNorm,
      tokens: o.batchTokens,
      tokensPerSec: o.batchTokens / Math.max(seconds, 1e-6),
      elapsed: (Date.now() - started) / 1000,
    });
    const evalDue =
      o.validation && o.evalEvery > 0 && (state.step % o.evalEvery === 0 || state.step === totalSteps);
    if (evalDue && o.validation) {
      evalSession ??= await createSession(
        buildLmGraph(o.model, {
          mode: o.mode,
          lora: o.lora,
          seed: o.seed,
          withGradients: false,
        }).graph.toBytes(),
        {
          threads: o.threads,
        },
      );
      const evalLoss = await evaluate(evalSession, o.validation, o, rowsPerMicro, trainables, values);
      if (evalLoss !== null) {
        const best = state.bestEvalLoss === null || evalLoss < state.bestEvalLoss;
        if (best) {
          state.bestEvalLoss = evalLoss;
          state.bestStep = state.step;
          state.evalsSinceBest = 0;
          if (keepBest)
            writeBest(
              o.outDir,
              valueMap(trainables, values),
              format,
              { step: state.step, evalLoss },
              (dir) => {
                if (o.mode === 'full') copyModelFiles(o.model.dir, dir);
              },
            );
        } else state.evalsSinceBest = (state.evalsSinceBest ?? 0) + 1;
        emit({ type: 'eval', step: state.step, evalLoss, best });
        if (patience > 0 && state.evalsSinceBest! >= patience && state.step < totalSteps) {
          earlyStopped = true;
          emit({
            type: 'log',
            level: 'info',
            message: `early stopping at step ${state.step}: ${patience} evaluation(s) without a lower validation loss than ${state.bestEvalLoss!.toFixed(4)} (step ${state.bestStep})`,
          });
          break;
        }
      }
    }
    if (o.checkpointEvery > 0 && state.step % o.checkpointEvery === 0 && state.step < totalSteps)
      checkpoint();
  }
  checkpoint();
  const finalDir = join(o.outDir, o.mode === 'lora' ? 'adapter' : 'model');
  // With the best kept, the final adapter/model is the best evaluation's (when there was one).
  const finalIs = keepBest && existsSync(join(bestDir(o.outDir), 'best.json')) ? 'best' : 'last';
  if (finalIs === 'best') {
    rmSync(finalDir, { recursive: true, force: true });
    cpSync(bestDir(o.outDir), finalDir, { recursive: true });
  } else {
    rmSync(join(finalDir, 'best.json'), { force: true });
    writeTrainables(finalDir, valueMap(trainables, values), format);
    if (o.mode === 'full') copyModelFiles(o.model.dir, finalDir);
  }
  const done = {
    type: 'done' as const,
    step: state.step,
    reason,
    outDir: o.outDir,
    finalDir,
    bestEvalLoss: state.bestEvalLoss,
    bestStep: state.bestStep ?? null,
    earlyStopped,
    finalIs: finalIs as 'best' | 'last',
  };
  emit(done);
  return done;
}

function dropoutSeed(seed: number, step: number, row: number): number {
  return new Rng(seed).fork(`dropout-${step}-${row}`).nextInt(2 ** 31);
}

function valueMap(trainables: Trainable[], values: Float32Array[]) {
  return new Map(trainables.map((t, k) => [t.name, { data: values[k], shape: t.shape }]));
}

function countWeights(stream: TokenStream, w: number, seqLen: number): number {
  let n = 0;
  for (let t = 1; t <= seqLen; t++) n += stream.weights[w * seqLen + t];
  return n;
}

/** Mean weighted cross-entropy over (up to `evalTokens` of) the validation stream; null when it is too short. */
async function evaluate(
  session: InferenceSession,
  stream: TokenStream,
  o: TrainOptions,
  rowsPerMicro: number,
  trainables: Trainable[],
  values: Float32Array[],
): Promise<number | null> {
  const windows = new Windows(stream, o.seqLen, o.seed);
  const count = Math.min(windows.count, Math.max(1, Math.floor(o.evalTokens / o.seqLen)));
  if (count === 0) return null;
  let sum = 0;
  let weight = 0;
  for (let w0 = 0; w0 < count; w0 += rowsPerMicro) {
    const rows = Math.min(rowsPerMicro, count - w0);
    const b = allocBatch(rows, o.seqLen);
    for (let r = 0; r < rows; r++) weight += windows.fill(w0 + r, r, b.ids, b.labels, b.weights);
    const out = await session.run(feedsFor(b, o.seqLen, 1, trainables, values));
    sum += (out.loss.data as Float32Array)[0];
  }
  return weight > 0 ? sum / weight : null;
}

/** A full fine-tune's output is a complete model folder: config and tokenizer beside the weights. */
function copyModelFiles(from: string, to: string): void {
  for (const f of [
    'config.json',
    'generation_config.json',
    'tokenizer.json',
    'tokenizer_config.json',
    'special_tokens_map.json',
    'vocab.json',
    'merges.txt',
  ])
    if (existsSync(join(from, f))) copyFileSync(join(from, f), join(to, f));
}

/** On resume, metrics after the checkpoint's step are dropped: they are about to be recomputed. */
function truncateMetrics(file: string, step: number): void {
  if (!existsSync(file)) return;
  const kept = readFileSync(file, 'utf8')
    .split('\n')
    .filter((line) => {
      if (!line) return false;
      try {
        return (JSON.parse(line) as { step?: number }).step! <= step;
      } catch {
        return false;
      }
    });
  writeFileSync(file, kept.map((l) => l + '\n').join(''));
}
