/**
 * LoRA on an int8 frozen base (`baseDtype: 'int8'`) on whole models: the graph multiplies every
 * frozen linear layer (forward and input gradient) and the LM head (forward; its input gradient
 * is float32) in int8 and keeps no float32 copy of the layers; the loss and the
 * LoRA factors' gradients stay close to the float32 base's; a run resumes exactly; its adapter is
 * an ordinary PEFT adapter that the float32 path loads and that scores the data better than the base.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeGpt2Model } from '../../../fixtures/tinyModel';
import { TINY_LLAMA, writeLlamaModel } from '../../../fixtures/tinyLlama';
import { loadModel, type LoadedModel } from '../../../src/engine/models';
import type { BaseDtype } from '../../../src/engine/models/params';
import { loadAdapter } from '../../../src/engine/formats/peft';
import { SafetensorsReader } from '../../../src/engine/formats/safetensors';
import { createSession, float32Of, toOrt } from '../../../src/engine/onnx/session';
import { Rng } from '../../../src/engine/rng';
import { buildLmGraph } from '../../../src/engine/train/lmGraph';
import { scoreIds } from '../../../src/engine/train/score';
import { train, type TrainOptions } from '../../../src/engine/train/trainer';
import { regularStream, tinyTrainOptions } from '../models/wholeModel';

/** One training-graph run at `baseDtype`, with LoRA B drawn non-zero so every factor has a gradient. */
async function lossAndGrads(model: LoadedModel, baseDtype: BaseDtype, targets: string[], vocab: number) {
  const lora = { r: 4, alpha: 8, targets, dropout: 0, rslora: false };
  const fp32 = buildLmGraph(model, { mode: 'lora', lora, seed: 1, withGradients: true });
  const rng = new Rng(2);
  const values = new Map(
    fp32.trainables.map((t) => [
      t.name,
      t.name.includes('lora_B') ? Float32Array.from(t.initial, () => rng.normal() * 0.05) : t.initial,
    ]),
  );
  const { graph, trainables } = buildLmGraph(model, {
    mode: 'lora',
    lora,
    seed: 1,
    loraValues: values,
    baseDtype,
    withGradients: true,
  });
  const [B, T] = [2, 16];
  const ids = BigInt64Array.from({ length: B * T }, (_, i) => BigInt((i * 7 + 3) % vocab));
  const feeds = {
    input_ids: toOrt('int64', ids, [B, T]),
    labels: toOrt(
      'int64',
      BigInt64Array.from(ids, (x) => (x * 5n + 1n) % BigInt(vocab)),
      [B, T],
    ),
    loss_weights: toOrt('float32', new Float32Array(B * T).fill(1), [B, T]),
    loss_scale: toOrt('float32', Float32Array.of(1 / (B * T)), []),
    ...Object.fromEntries(trainables.map((t) => [t.name, toOrt('float32', values.get(t.name)!, t.shape)])),
  };
  const out = await (await createSession(graph.toBytes(), { threads: 1 })).run(feeds);
  const grads = new Map(trainables.map((t) => [t.name, float32Of(out[`grad.${t.name}`])]));
  return { graph, loss: float32Of(out.loss)[0], grads };
}

/** ‖a − b‖ / ‖b‖ */
function relativeError(a: Float32Array, b: Float32Array): number {
  let [diff, norm] = [0, 0];
  b.forEach((v, i) => ((diff += (a[i] - v) ** 2), (norm += v * v)));
  return Math.sqrt(diff / norm);
}

async function compareWithFp32(
  model: LoadedModel,
  targets: string[],
  vocab: number,
  [forward, backward]: [number, number],
) {
  const fp32 = await lossAndGrads(model, 'fp32', targets, vocab);
  const int8 = await lossAndGrads(model, 'int8', targets, vocab);
  const q8 = int8.graph.nodes.filter((n) => n.op === 'DynamicQuantizeMatMul');
  assert.equal(q8.length, forward + backward, 'every frozen product and input gradient runs in int8');
  const floatWeights = [...int8.graph.initializers.values()].filter(
    (i) =>
      i.data instanceof Float32Array &&
      i.data.length >= 64 * 64 &&
      !/embed|wte|wpe|lm_head/.test(i.tensor.name),
  );
  assert.deepEqual(
    floatWeights.map((i) => i.tensor.name),
    [],
    'no float32 copy of a frozen layer stays in the graph (the head keeps its own, for its gradient)',
  );
  assert.notEqual(int8.loss, fp32.loss, 'the int8 path rounds');
  assert.ok(Math.abs(int8.loss - fp32.loss) / fp32.loss < 2e-3, `loss ${int8.loss} vs ${fp32.loss}`);
  let worst = 0;
  for (const [name, g] of fp32.grads) worst = Math.max(worst, relativeError(int8.grads.get(name)!, g));
  // Measured: 5.0% (GPT-2) and 2.8% (Llama). With the head's input gradient in int8 (even split
  // into per-row-scaled probabilities and the label's row) they were 3.0% and 2.9%; plain int8
  // 17.9% and 7.5%; Wᵀ re-rounded from the forward copy fails the product test. The held-out loss
  // is the real guard (int8Quality.test.ts).
  assert.ok(worst < 0.065, `worst LoRA gradient relative error ${worst.toFixed(4)}`);
  return worst;
}

test('GPT-2 (Conv1D layers, stride-padded MLP, tied head): loss and LoRA gradients close to the fp32 base', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'lt-int8-gpt2-'));
  // nEmbd 256: the MLP's 1024 columns are padded (models/common.ts stridePad) in int8 too.
  await writeGpt2Model(dir, { nLayer: 2, nHead: 4, nEmbd: 256, nPositions: 32, vocabSize: 512 }, 3);
  // Per layer c_attn, attn.c_proj, c_fc, mlp.c_proj, then the head; every layer's input gradient
  // but the first c_attn's (its input, the embeddings, depends on no trainable).
  await compareWithFp32(loadModel(dir), ['c_attn', 'c_proj', 'c_fc'], 512, [2 * 4 + 1, 2 * 4 - 1]);
});

test('Llama (GQA, SwiGLU, untied head): loss and LoRA gradients close to the fp32 base', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'lt-int8-llama-'));
  writeLlamaModel(dir, { ...TINY_LLAMA, vocabSize: 512 }, 3);
  // Per layer q, k, v, o, gate, up, down, then the head; every layer's input gradient but the
  // first layer's q, k and v.
  await compareWithFp32(loadModel(dir), ['q_proj', 'v_proj'], 512, [2 * 7 + 1, 2 * 7 - 3]);
});

const SHAPE = { nLayer: 2, nHead: 2, nEmbd: 64, nPositions: 64, vocabSize: 64 };

/** A toy GPT-2 LoRA run (test/engine/models/wholeModel.ts's settings) on an int8 base. */
async function int8Run(extra: Partial<TrainOptions> = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'lt-int8-run-'));
  await writeGpt2Model(join(dir, 'base'), SHAPE, 5, { embeddingStd: 0.5 });
  const model = loadModel(join(dir, 'base'));
  const lora = { r: 4, alpha: 8, targets: ['c_attn', 'c_proj', 'c_fc'], dropout: 0.1, rslora: false };
  return {
    model,
    options: tinyTrainOptions(model, dir, 'lora', {
      baseDtype: 'int8',
      lora,
      steps: 12,
      checkpointEvery: 5,
      ...extra,
    }),
  };
}

test('an int8-base run resumes with exactly the losses of an uninterrupted one', async () => {
  const a = await int8Run();
  const full: number[] = [];
  let start: unknown;
  await train(a.options, {
    onEvent: (e) => {
      if (e.type === 'start') start = e.baseDtype;
      if (e.type === 'step') full.push(e.loss);
    },
  });
  assert.equal(start, 'int8', 'the start event (and --json) reports the base dtype');

  const b = await int8Run();
  const first: number[] = [];
  await train(b.options, {
    onEvent: (e) => e.type === 'step' && first.push(e.loss),
    shouldStop: () => first.length >= 7,
  });
  const rest: number[] = [];
  await train(
    { ...b.options, resumeFrom: b.options.outDir },
    { onEvent: (e) => e.type === 'step' && rest.push(e.loss) },
  );
  assert.deepEqual([...first, ...rest], full);
});

test("an int8-base run's adapter is the fp32 run's format, and the fp32 path scores the data better with it", async () => {
  const q = await int8Run({ steps: 30, checkpointEvery: 0 });
  const f = await int8Run({ steps: 30, checkpointEvery: 0, baseDtype: 'fp32' });
  const int8Dir = (await train(q.options)).finalDir;
  const fp32Dir = (await train(f.options)).finalDir;
  assert.deepEqual(readdirSync(int8Dir).sort(), readdirSync(fp32Dir).sort());
  const config = (dir: string) =>
    JSON.parse(readFileSync(join(dir, 'adapter_config.json'), 'utf8')) as object;
  const { base_model_name_or_path: _a, ...int8Config } = config(int8Dir) as Record<string, unknown>;
  const { base_model_name_or_path: _b, ...fp32Config } = config(fp32Dir) as Record<string, unknown>;
  assert.deepEqual(int8Config, fp32Config);
  const tensors = (dir: string) => {
    const r = SafetensorsReader.open(join(dir, 'adapter_model.safetensors'));
    const info = r.names().map((n) => ({ n, ...r.info(n) }));
    r.close();
    return info;
  };
  assert.deepEqual(tensors(int8Dir), tensors(fp32Dir));

  const sample = Array.from(regularStream(40).ids);
  const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
  const base = sum(await scoreIds(q.model, sample));
  const tunedInt8 = sum(await scoreIds(q.model, sample, { adapter: loadAdapter(int8Dir) }));
  const tunedFp32 = sum(await scoreIds(f.model, sample, { adapter: loadAdapter(fp32Dir) }));
  assert.ok(tunedInt8 > base + 20, `int8-base adapter ${tunedInt8} vs base ${base}`);
  assert.ok(
    tunedInt8 > tunedFp32 - 0.1 * Math.abs(tunedFp32),
    `int8-base ${tunedInt8} vs fp32-base ${tunedFp32}`,
  );
});

test('int8Except keeps the named modules (and lm_head, the head) in float32', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'lt-int8-except-'));
  writeLlamaModel(dir, { ...TINY_LLAMA, vocabSize: 512 }, 3);
  const lora = { r: 4, alpha: 8, targets: ['q_proj', 'v_proj'], dropout: 0, rslora: false };
  const { graph } = buildLmGraph(loadModel(dir), {
    mode: 'lora',
    lora,
    baseDtype: 'int8',
    int8Except: ['down_proj', 'lm_head'],
    withGradients: true,
  });
  const q8 = graph.nodes.filter((n) => n.op === 'DynamicQuantizeMatMul');
  // Forward: q, k, v, o, gate, up of 2 layers; input gradients: the same less layer 0's q, k, v.
  assert.equal(q8.length, 12 + 9);
  assert.ok(
    !q8.some((n) => n.inputs[1]!.name.includes('down_proj') || n.inputs[1]!.name.includes('lm_head')),
  );
  assert.ok(graph.initializers.has('lm_head.weight'), 'the head keeps its float32 weight');
});
