/**
 * One optimizer step: the step's windows through the train-step graph a micro-batch at a time
 * (gradients summed across them), then global-norm clipping and AdamW at the scheduled rate.
 */
import { rmSync } from 'node:fs';
import { OptionError } from '../errors';
import type { Tensor as OrtTensor } from 'onnxruntime-node';
import { toOrt } from '../onnx/session';
import { collectGarbage } from '../onnx/collectGarbage';
import { Rng } from '../rng';
import { globalNorm } from './adamw';
import { accumulates, feedsFor } from './batch';
import { listCheckpoints, readCheckpointStep } from './checkpoint';
import type { Run } from './run';
import { learningRate } from './schedule';
import type { TokenStream } from './windows';

export async function trainStep(run: Run): Promise<void> {
  const { o, plan, state, buffers } = run;
  const stepStart = Date.now();
  const loss = await lossAndGradients(run);
  if (!Number.isFinite(loss)) failOnBadLoss(run, loss);
  const gradNorm = globalNorm(buffers.grads);
  const lr = learningRate(state.step, {
    peak: o.lr,
    warmup: o.warmupSteps,
    total: plan.totalSteps,
    minRatio: o.minLrRatio,
  });
  const clip = o.clipNorm > 0 && gradNorm > o.clipNorm ? o.clipNorm / gradNorm : 1;
  run.adam.step(run.values, buffers.grads, lr, clip);
  state.step++;
  const seconds = (Date.now() - stepStart) / 1000;
  run.emit({
    type: 'step',
    step: state.step,
    totalSteps: plan.totalSteps,
    loss,
    lr,
    gradNorm,
    tokens: o.batchTokens,
    tokensPerSec: o.batchTokens / Math.max(seconds, 1e-6),
    elapsed: (Date.now() - run.started) / 1000,
  });
}

/** Gradients (and so their returned copies) from this size on are collected after each run. */
const COLLECT_AFTER_BYTES = 64 * 2 ** 20;

/** The step's loss, its gradient left in `grads` (summed over the micro-batches by the graph). */
async function lossAndGradients(run: Run): Promise<number> {
  const { o, plan, state, buffers: b } = run;
  const picked = plan.windows.take(state.position, plan.rowsPerStep);
  let weightTotal = 0;
  for (const w of picked) weightTotal += countWeights(o.train, w, o.seqLen);
  const scale = weightTotal > 0 ? 1 / weightTotal : 0;
  let loss = 0;
  const gradientBytes = b.grads.reduce((n, g) => n + g.byteLength, 0);
  if (accumulates(plan)) for (const d of b.grads) d.fill(0);
  for (let r0 = 0; r0 < picked.length; r0 += plan.rowsPerMicro) {
    picked
      .slice(r0, r0 + plan.rowsPerMicro)
      .forEach((w, row) => plan.windows.fill(w, row, b.micro.ids, b.micro.labels, b.micro.weights));
    const feeds = { ...feedsFor(b.micro, o.seqLen, scale, run.trainables, run.values), ...b.gradFeeds };
    // Dropout masks depend on (seed, step, micro-batch) only: a resumed run draws the same ones.
    if (b.usesDropout)
      feeds.dropout_seed = toOrt('int64', BigInt64Array.of(BigInt(dropoutSeed(o.seed, state.step, r0))), []);
    loss += await runMicroBatch(run, feeds);
    // onnxruntime-node writes each gradient into our buffer and also returns a fresh copy of it
    // (its binding copies every fetched output). Collected now (~7 ms), a full fine-tune's copy is
    // gone before the next micro-batch makes its own: gpt2-small, peak RSS 5,266 -> 4,642 MiB.
    if (gradientBytes >= COLLECT_AFTER_BYTES) collectGarbage();
  }
  return loss;
}

/** One run of the step graph; only its loss leaves, so the outputs' copies are garbage on return. */
async function runMicroBatch(run: Run, feeds: Record<string, OrtTensor>): Promise<number> {
  const out = await run.session.run(feeds, run.buffers.fetches);
  return (out.loss.data as Float32Array)[0];
}

function failOnBadLoss(run: Run, loss: number): never {
  const { o, state } = run;
  // A checkpoint of exactly these parameters is not good: they just produced this loss.
  const newest = listCheckpoints(o.outDir).at(-1);
  if (newest && readCheckpointStep(newest) === state.step) rmSync(newest, { recursive: true, force: true });
  const kept = listCheckpoints(o.outDir).at(-1);
  throw new OptionError(
    ['lr'],
    kept
      ? `training loss became ${loss} at step ${state.step + 1}; the last good checkpoint is kept in ${kept} — lower lr and resume`
      : `training loss became ${loss} at step ${state.step + 1}, before any checkpoint; check the model's weights or lower lr`,
  );
}

function dropoutSeed(seed: number, step: number, row: number): number {
  return new Rng(seed).fork(`dropout-${step}-${row}`).nextInt(2 ** 31);
}

function countWeights(stream: TokenStream, w: number, seqLen: number): number {
  let n = 0;
  for (let t = 1; t <= seqLen; t++) n += stream.weights[w * seqLen + t];
  return n;
}
