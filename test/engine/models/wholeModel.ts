/**
 * Shared checks for the model-family tests: a whole-model float64 finite-difference gradient check
 * (the approach of test/engine/train/lmGraph.test.ts, for any family) and a regular training corpus.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { loadAdapter } from '../../../src/engine/formats/peft';
import type { LlamaShape } from '../../../fixtures/tinyLlama';
import { loadModel, type LoadedModel } from '../../../src/engine/models';
import { LLAMA_LORA_TARGETS } from '../../../src/engine/models/llama';
import type { LoraSettings } from '../../../src/engine/formats/peft';
import type { TrainMode } from '../../../src/engine/models/params';
import { createSession, toOrt } from '../../../src/engine/onnx/session';
import { Rng } from '../../../src/engine/rng';
import { buildLmGraph } from '../../../src/engine/train/lmGraph';
import { scoreIds } from '../../../src/engine/train/score';
import { train, type TrainOptions } from '../../../src/engine/train/trainer';

/** Llama / Qwen2 shapes for gradient checks (4 query heads over 2 key/value heads, head size 4). */
export const LLAMA_MICRO: LlamaShape = {
  nLayer: 2,
  nHead: 4,
  nKvHead: 2,
  hidden: 16,
  intermediate: 24,
  maxPositions: 8,
  vocabSize: 16,
};
/** …and for the training runs. */
export const LLAMA_TRAIN: LlamaShape = { ...LLAMA_MICRO, hidden: 32, intermediate: 64, maxPositions: 64 };
export const LLAMA_LORA = { r: 2, alpha: 4, targets: LLAMA_LORA_TARGETS, dropout: 0, rslora: false };

/**
 * Analytic gradients of every `sampleEvery`-th entry of every trainable tensor against float64
 * central differences of the loss. LoRA B starts non-zero so that A's gradient is not trivially 0.
 * Returns the worst relative error |numeric − analytic| / max(1e-3, |numeric|).
 */
export async function checkWholeModel(
  model: LoadedModel,
  mode: TrainMode,
  sampleEvery: number,
  lora: LoraSettings,
): Promise<{ worst: number; checked: number; tensors: string[] }> {
  const vocab = model.family.vocabSize(model.config);
  const rng = new Rng(11);
  const probe = buildLmGraph(model, { mode, lora, dtype: 'float64', withGradients: false });
  const loraValues = new Map(
    probe.trainables.map((t) => [
      t.name,
      Float32Array.from(t.initial, (v) => (t.name.includes('lora_B') ? rng.normal() * 0.1 : v)),
    ]),
  );
  const { graph, trainables } = buildLmGraph(model, {
    mode,
    lora,
    dtype: 'float64',
    withGradients: true,
    loraValues,
  });
  const session = await createSession(graph.toBytes(), { threads: 1 });
  const [B, T] = [2, 5];
  const ids = BigInt64Array.from({ length: B * T }, () => BigInt(rng.nextInt(vocab)));
  const labels = BigInt64Array.from({ length: B * T }, () => BigInt(rng.nextInt(vocab)));
  const w = Float64Array.from({ length: B * T }, (_, i) => (i % 3 === 0 ? 0 : 1));
  const values = trainables.map((t) => Float64Array.from(t.initial));
  const feeds = () => ({
    input_ids: toOrt('int64', ids, [B, T]),
    labels: toOrt('int64', labels, [B, T]),
    loss_weights: toOrt('float64', w, [B, T]),
    loss_scale: toOrt('float64', Float64Array.of(1 / 7), []),
    ...Object.fromEntries(trainables.map((t, k) => [t.name, toOrt('float64', values[k], t.shape)])),
  });
  const out = await session.run(feeds());
  const loss = async () => ((await session.run(feeds())).loss.data as Float64Array)[0];
  let worst = 0;
  let checked = 0;
  const h = 1e-6;
  for (let k = 0; k < trainables.length; k++) {
    const analytic = out[`grad.${trainables[k].name}`].data as Float64Array;
    for (let j = k % sampleEvery; j < values[k].length; j += sampleEvery) {
      const keep = values[k][j];
      values[k][j] = keep + h;
      const up = await loss();
      values[k][j] = keep - h;
      const down = await loss();
      values[k][j] = keep;
      const numeric = (up - down) / (2 * h);
      const err = Math.abs(numeric - analytic[j]) / Math.max(1e-3, Math.abs(numeric));
      worst = Math.max(worst, err);
      checked++;
      assert.ok(err < 1e-5, `${trainables[k].name}[${j}]: analytic ${analytic[j]} numeric ${numeric}`);
    }
  }
  return { worst, checked, tensors: trainables.map((t) => t.name) };
}

/**
 * The float32 training graph (onnxruntime-only fused nodes where the family has them) against the
 * float64 one (decomposed ops, which checkWholeModel holds to finite differences): the same loss
 * and every gradient entry within float32 rounding of the largest in its tensor. Returns the op
 * types of the float32 graph, for the caller to check which fused nodes it holds.
 */
export async function float32MatchesFloat64(
  model: LoadedModel,
  mode: TrainMode,
  lora: LoraSettings,
): Promise<{ ops: Set<string>; worst: number }> {
  const vocab = model.family.vocabSize(model.config);
  const rng = new Rng(5);
  const [B, T] = [2, 6];
  const ids = BigInt64Array.from({ length: B * T }, () => BigInt(rng.nextInt(vocab)));
  const labels = BigInt64Array.from({ length: B * T }, () => BigInt(rng.nextInt(vocab)));
  const weights = Array.from({ length: B * T }, (_, i) => (i % 4 === 0 ? 0 : 1));
  const loraValues = new Map(
    buildLmGraph(model, { mode, lora, withGradients: false }).trainables.map((t) => [
      t.name,
      Float32Array.from(t.initial, (v) => (t.name.includes('lora_B') ? rng.normal() * 0.1 : v)),
    ]),
  );
  const run = async (dtype: 'float32' | 'float64') => {
    const floats = (v: ArrayLike<number>) => (dtype === 'float32' ? Float32Array.from(v) : Float64Array.from(v));
    const { graph, trainables } = buildLmGraph(model, { mode, lora, dtype, withGradients: true, loraValues });
    const out = await (
      await createSession(graph.toBytes(), { threads: 1 })
    ).run({
      input_ids: toOrt('int64', ids, [B, T]),
      labels: toOrt('int64', labels, [B, T]),
      loss_weights: toOrt(dtype, floats(weights), [B, T]),
      loss_scale: toOrt(dtype, floats([1 / 9]), []),
      ...Object.fromEntries(trainables.map((t) => [t.name, toOrt(dtype, floats(t.initial), t.shape)])),
    });
    const ops = new Set(graph.nodes.map((n) => n.op));
    return { out, trainables, ops };
  };
  const [f32, f64] = [await run('float32'), await run('float64')];
  const loss = (r: typeof f32) => Number(r.out.loss.data[0]);
  assert.ok(Math.abs(loss(f32) - loss(f64)) < 1e-5 * loss(f64), `loss ${loss(f32)} vs ${loss(f64)}`);
  let worst = 0;
  for (const t of f64.trainables) {
    const [a, b] = [f32, f64].map((r) => Array.from(r.out[`grad.${t.name}`].data as ArrayLike<number>));
    const scale = Math.max(...b.map(Math.abs));
    assert.ok(scale > 0, `${t.name}: a gradient`);
    for (let j = 0; j < b.length; j++) {
      const err = Math.abs(a[j] - b[j]) / scale;
      worst = Math.max(worst, err);
      assert.ok(err < 1e-4, `${t.name}[${j}]: float32 ${a[j]} vs float64 ${b[j]} (largest ${scale})`);
    }
  }
  return { ops: f32.ops, worst };
}

/** A highly regular corpus: a cycle of 12 token ids below `vocab`, all weighted. */
export function regularStream(tokens: number, vocab = 64) {
  const step = Math.max(1, Math.floor((vocab - 3) / 12));
  const ids = Uint32Array.from({ length: tokens }, (_, i) => 3 + ((i * 5) % 12) * step);
  return { ids, weights: new Uint8Array(tokens).fill(1) };
}

/**
 * The toy runs' options (the settings of test/engine/train/trainer.test.ts): 30 steps of 256
 * tokens on the regular corpus, the family's default LoRA targets, one thread; `extra` overrides.
 */
export function tinyTrainOptions(
  model: LoadedModel,
  dir: string,
  mode: 'lora' | 'full',
  extra: Partial<TrainOptions> = {},
): TrainOptions {
  return {
    model,
    baseModelName: model.dir,
    train: regularStream(4000, model.family.vocabSize(model.config)),
    mode,
    lora: { r: 4, alpha: 8, targets: model.family.defaultLoraTargets, dropout: 0, rslora: false },
    steps: 30,
    lr: mode === 'lora' ? 2e-2 : 1e-2,
    warmupSteps: 3,
    minLrRatio: 0.1,
    weightDecay: 0,
    clipNorm: 1,
    batchTokens: 256,
    seqLen: 32,
    microBatchTokens: 128,
    evalEvery: 0,
    evalTokens: 256,
    checkpointEvery: 0,
    seed: 7,
    outDir: join(dir, 'run'),
    threads: 1,
    ...extra,
  };
}

/**
 * 30 steps on the regular corpus (tinyTrainOptions); returns the step losses, ln V, and the
 * sample's log-likelihood under the base and the tuned model.
 */
export async function trainTiny(model: LoadedModel, dir: string, mode: 'lora' | 'full') {
  const vocab = model.family.vocabSize(model.config);
  const losses: number[] = [];
  const done = await train(
    tinyTrainOptions(model, dir, mode),
    { onEvent: (e) => e.type === 'step' && losses.push(e.loss) },
  );
  const sample = Array.from(regularStream(40, vocab).ids);
  const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
  const before = sum(await scoreIds(model, sample));
  const tuned =
    mode === 'lora'
      ? await scoreIds(model, sample, { adapter: loadAdapter(done.finalDir) })
      : await scoreIds(loadModel(done.finalDir), sample);
  return { losses, baseline: Math.log(vocab), before, after: sum(tuned) };
}
