import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeGpt2Model } from '../../../fixtures/tinyModel';
import { writeLlamaModel } from '../../../fixtures/tinyLlama';
import { LLAMA_TRAIN } from '../models/wholeModel';
import { loadModel } from '../../../src/engine/models';
import { train, type TrainOptions } from '../../../src/engine/train/trainer';
import { scoreIds } from '../../../src/engine/train/score';
import { loadAdapter } from '../../../src/engine/formats/peft';
import type { TrainEvent } from '../../../src/engine/train/events';
import { SafetensorsReader } from '../../../src/engine/formats/safetensors';

const SHAPE = { nLayer: 2, nHead: 2, nEmbd: 32, nPositions: 64, vocabSize: 64 };

/** A highly regular corpus: a cycle of 12 token ids, all weighted. */
function regularStream(tokens: number) {
  const ids = Uint32Array.from({ length: tokens }, (_, i) => 3 + ((i * 5) % 12) * 4);
  return { ids, weights: new Uint8Array(tokens).fill(1) };
}

/** A run's options on a tiny GPT-2 (or the model `writeBase` writes to `<dir>/base`). */
async function setup(
  mode: 'lora' | 'full',
  extra: Partial<TrainOptions> = {},
  writeBase: (dir: string) => void | Promise<void> = () => undefined,
) {
  const dir = mkdtempSync(join(tmpdir(), 'lt-train-'));
  await writeBase(dir);
  if (!existsSync(join(dir, 'base')))
    await writeGpt2Model(join(dir, 'base'), SHAPE, 5, { embeddingStd: 0.5 });
  const model = loadModel(join(dir, 'base'));
  const options: TrainOptions = {
    model,
    baseModelName: join(dir, 'base'),
    train: regularStream(4000),
    validation: regularStream(600),
    mode,
    lora: { r: 4, alpha: 8, targets: ['c_attn', 'c_proj', 'c_fc'], dropout: 0, rslora: false },
    steps: 30,
    lr: mode === 'lora' ? 2e-2 : 1e-2,
    warmupSteps: 3,
    minLrRatio: 0.1,
    weightDecay: 0,
    clipNorm: 1,
    batchTokens: 256,
    seqLen: 32,
    microBatchTokens: 128,
    evalEvery: 10,
    evalTokens: 256,
    checkpointEvery: 10,
    seed: 7,
    outDir: join(dir, 'run'),
    threads: 1,
    ...extra,
  };
  return { dir, model, options };
}

for (const mode of ['lora', 'full'] as const) {
  test(`${mode}: training on a regular corpus drives the loss far below the random baseline, and the tuned model scores it better`, async () => {
    const { model, options } = await setup(mode);
    const events: TrainEvent[] = [];
    const done = await train(options, { onEvent: (e) => events.push(e) });
    const steps = events.filter((e) => e.type === 'step');
    assert.equal(steps.length, 30);
    const baseline = Math.log(SHAPE.vocabSize);
    assert.ok(steps[0].loss > 0.8 * baseline, `first loss ${steps[0].loss} at least near ln V = ${baseline}`);
    assert.ok(steps[29].loss < 0.25 * baseline, `last loss ${steps[29].loss} far below ${baseline}`);
    const evals = events.filter((e) => e.type === 'eval');
    assert.equal(evals.length, 3);
    const metrics = readFileSync(join(options.outDir, 'metrics.jsonl'), 'utf8').trim().split('\n');
    assert.equal(metrics.length, 33);

    const sample = Array.from(regularStream(40).ids);
    const before = (await scoreIds(model, sample)).reduce((a, b) => a + b, 0);
    const tunedLogprobs =
      mode === 'lora'
        ? await scoreIds(model, sample, { adapter: loadAdapter(done.finalDir) })
        : await scoreIds(loadModel(done.finalDir), sample);
    const after = tunedLogprobs.reduce((a, b) => a + b, 0);
    assert.ok(after > before + 20, `tuned log-likelihood ${after} beats base ${before}`);
  });
}

test('resume continues with exactly the losses of an uninterrupted run (with LoRA dropout)', async () => {
  const dropout = { r: 4, alpha: 8, targets: ['c_attn', 'c_proj', 'c_fc'], dropout: 0.1, rslora: false };
  const a = await setup('lora', { steps: 12, checkpointEvery: 5, evalEvery: 0, lora: dropout });
  const full: number[] = [];
  await train(a.options, { onEvent: (e) => e.type === 'step' && full.push(e.loss) });

  const b = await setup('lora', { steps: 12, checkpointEvery: 5, evalEvery: 0, lora: dropout });
  let seen = 0;
  const first: number[] = [];
  const stopped = await train(b.options, {
    onEvent: (e) => e.type === 'step' && (first.push(e.loss), seen++),
    shouldStop: () => seen >= 7,
  });
  assert.equal(stopped.reason, 'stopped');
  assert.ok(existsSync(join(b.options.outDir, 'checkpoints', 'step-000007', 'adapter_model.safetensors')));
  const rest: number[] = [];
  await train(
    { ...b.options, resumeFrom: b.options.outDir },
    { onEvent: (e) => e.type === 'step' && rest.push(e.loss) },
  );
  assert.deepEqual([...first, ...rest], full);
});

// A full fine-tune holds nn.Linear weights transposed and GPT-2's MLP at 4 KiB widths padded
// (models/layout.ts); files keep HF layouts. The padded run evaluates too: its evaluation graph
// reads the same padded values.
const PADDED_GPT2 = { nLayer: 1, nHead: 2, nEmbd: 256, nPositions: 64, vocabSize: 64 };
const FULL_RESUME = [
  { family: 'gpt2', weight: 'transformer.wte.weight', shape: [SHAPE.vocabSize, SHAPE.nEmbd], evalEvery: 0 },
  { family: 'llama', weight: 'model.layers.0.mlp.gate_proj.weight', shape: [64, 32], evalEvery: 0 },
  { family: 'gpt2 padded', weight: 'transformer.h.0.mlp.c_fc.weight', shape: [256, 1024], evalEvery: 3 },
  { family: 'gpt2 padded', weight: 'transformer.h.0.mlp.c_proj.weight', shape: [1024, 256], evalEvery: 0 },
] as const;
for (const { family, weight, shape, evalEvery } of FULL_RESUME)
  test(`full, ${family}: resume continues exactly, from checkpoints in the Hugging Face layout (${weight})`, async () => {
    const base = (dir: string) =>
      family === 'llama'
        ? writeLlamaModel(join(dir, 'base'), { ...LLAMA_TRAIN, vocabSize: 64 }, 5, { initStd: 0.2 })
        : family === 'gpt2 padded'
          ? writeGpt2Model(join(dir, 'base'), PADDED_GPT2, 5, { embeddingStd: 0.5 })
          : undefined;
    const a = await setup('full', { steps: 9, checkpointEvery: 4, evalEvery }, base);
    const full: number[] = [];
    await train(a.options, { onEvent: (e) => e.type === 'step' && full.push(e.loss) });

    const b = await setup('full', { steps: 9, checkpointEvery: 4, evalEvery }, base);
    let seen = 0;
    const first: number[] = [];
    await train(b.options, {
      onEvent: (e) => e.type === 'step' && (first.push(e.loss), seen++),
      shouldStop: () => seen >= 4,
    });
    const saved = SafetensorsReader.open(
      join(b.options.outDir, 'checkpoints', 'step-000004', 'model.safetensors'),
    );
    assert.deepEqual(saved.info(weight).shape, shape);
    // Four Adam steps of lr ≤ 1e-2 move each weight by at most ~0.04; a transposed matrix would not match.
    const before = SafetensorsReader.open(join(b.dir, 'base', 'model.safetensors')).readFloat32(weight);
    const after = saved.readFloat32(weight);
    assert.ok(
      after.every((x, i) => Math.abs(x - before[i]) < 0.05),
      'stored in the HF layout',
    );
    assert.ok(
      after.some((x, i) => x !== before[i]),
      'trained',
    );
    const rest: number[] = [];
    await train(
      { ...b.options, resumeFrom: b.options.outDir },
      { onEvent: (e) => e.type === 'step' && rest.push(e.loss) },
    );
    assert.deepEqual([...first, ...rest], full);
  });

test('full: the gradient copy onnxruntime-node returns with each run is collected before the next micro-batch', async () => {
  // Nearly all parameters in a 300k-token table: ~77 MB of gradients, above the collection
  // threshold. onnxruntime-node returns a fresh copy of every fetched output; without collection
  // the copies of the last micro-batches stay alive beside the run's own arrays.
  const wide = { nLayer: 1, nHead: 2, nEmbd: 64, nPositions: 64, vocabSize: 300_000 };
  const { model, options } = await setup(
    'full',
    { steps: 3, batchTokens: 64, microBatchTokens: 32, evalEvery: 0, checkpointEvery: 0, warmupSteps: 0 },
    (dir) => writeGpt2Model(join(dir, 'base'), wide, 5),
  );
  const params = model.weights.names().reduce((n, name) => n + model.weights.read(name).data.length, 0);
  const gradientBytes = 4 * params;
  const excess: number[] = [];
  await train(options, {
    onEvent: (e) => {
      // Beyond the run's own arrays: values, gradients and AdamW's two moments, float32 each.
      if (e.type === 'step') excess.push(process.memoryUsage().arrayBuffers - 4 * gradientBytes);
    },
  });
  assert.equal(excess.length, 3);
  for (const x of excess)
    assert.ok(
      x < 0.5 * gradientBytes,
      `${x} bytes of arrays beyond the run's own (gradients: ${gradientBytes})`,
    );
});
