import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { exportModel } from '../../../src/engine/generate/export';
import { saveAdapter } from '../../../src/engine/formats/peft';
import { Decoder } from '../../../src/engine/generate/decoder';
import { OptionError } from '../../../src/engine/errors';
import { scoreIds } from '../../../src/engine/train/score';
import {
  GPT2_SHAPE,
  gpt2Fixture,
  logprobAt,
  maxAbsDiff,
  randomAdapter,
  randomIds,
  transformersJs,
} from './fixtures';

const LORA = { r: 4, alpha: 8, targets: ['c_attn', 'c_proj', 'c_fc'], dropout: 0, rslora: false };
const V = GPT2_SHAPE.vocabSize;

test('GPT-2 + LoRA export: transformers.js gives the adapter-scored logprobs (1e-4), our logits and our greedy tokens', async () => {
  const { dir, modelDir, model } = await gpt2Fixture();
  const adapter = randomAdapter(model, LORA);
  saveAdapter(join(dir, 'adapter'), adapter, { fanInFanOut: true });
  const outDir = join(dir, 'export');
  const result = await exportModel({
    modelDir,
    adapterDir: join(dir, 'adapter'),
    outDir,
    dtype: 'fp32',
    card: { trainingData: '12 files, 3,400 tokens of TypeScript', evaluation: { 'validation loss': 2.5 } },
  });
  assert.deepEqual([...result.files].sort(), [
    'README.md',
    'config.json',
    'generation_config.json',
    'onnx/model.onnx',
    'tokenizer.json',
    'tokenizer_config.json',
  ]);
  assert.deepEqual(readdirSync(dir).sort(), ['adapter', 'base', 'export'], 'no temp folder left behind');
  const config = JSON.parse(readFileSync(join(outDir, 'config.json'), 'utf8'));
  assert.equal(config.model_type, 'gpt2');
  assert.equal(config.use_cache, true);

  const ids = randomIds(20, V, 7);
  const tjs = await transformersJs(outDir);
  const logits = await tjs.logits(ids); // [T, V]
  const scored = await scoreIds(model, ids, { adapter });
  const fromTjs = scored.map((_, t) => logprobAt(logits, V, t, ids[t + 1]));
  const diff = maxAbsDiff(fromTjs, scored);
  assert.ok(diff < 1e-4, `transformers.js vs score with the adapter: ${diff}`);
  const base = await scoreIds(model, ids);
  assert.ok(maxAbsDiff(base, scored) > 1e-2, 'the merged adapter changes the model');

  const decoder = await Decoder.fromModel(model, { adapter });
  const ours = await decoder.forward(ids, decoder.emptyPast(), 0, { allLogits: true });
  assert.ok(maxAbsDiff(ours.logits, logits) < 1e-4, 'our in-memory graph gives the same logits');
  const prompt = ids.slice(0, 6);
  const greedy = await tjs.greedy(prompt, 12);
  const mine = await decoder.generate(prompt, { maxTokens: 12 });
  assert.deepEqual(mine.tokens, greedy, 'same greedy tokens as transformers.js');
  await tjs.dispose();

  const card = readFileSync(join(outDir, 'README.md'), 'utf8');
  for (const s of [
    'org/tiny-base',
    'rank r = 4',
    'c_attn, c_proj, c_fc',
    '3,400 tokens',
    'validation loss',
    '## Limits',
  ])
    assert.ok(card.includes(s), `model card mentions ${s}`);

  await assert.rejects(
    exportModel({ modelDir, outDir, dtype: 'fp32' }),
    (e: unknown) =>
      e instanceof OptionError && /already exists/.test(e.message) && e.options.join() === 'outDir',
  );
});

test('int8 export (external data): loads in transformers.js as q8; max logit difference against fp32 is reported and small', async () => {
  const { dir, modelDir } = await gpt2Fixture();
  const fp32Dir = join(dir, 'fp32');
  const int8Dir = join(dir, 'int8');
  await exportModel({ modelDir, outDir: fp32Dir, dtype: 'fp32', externalData: true });
  assert.ok(
    existsSync(join(fp32Dir, 'onnx', 'model.onnx_data')),
    'external data named as transformers.js expects',
  );
  const result = await exportModel({ modelDir, outDir: int8Dir, dtype: 'int8' });
  assert.equal(result.modelFile, 'onnx/model_quantized.onnx');
  assert.ok(result.maxLogitDiff !== undefined && result.maxLogitDiff > 0, 'the difference is measured');

  const ids = randomIds(24, V, 8);
  const fp32 = await transformersJs(fp32Dir);
  const q8 = await transformersJs(int8Dir, 'q8');
  const a = await fp32.logits(ids);
  const b = await q8.logits(ids);
  const diff = maxAbsDiff(a, b);
  let scale = 0;
  for (const x of a) scale = Math.max(scale, Math.abs(x));
  console.log(
    `int8 vs fp32: max |logit diff| ${diff.toPrecision(3)} (export probe ${result.maxLogitDiff!.toPrecision(3)}), max |logit| ${scale.toPrecision(3)}`,
  );
  assert.ok(diff < 0.05 * scale, `int8 logits stay within 5% of the logit range (${diff} vs ${scale})`);
  assert.ok(readFileSync(join(int8Dir, 'README.md'), 'utf8').includes('int8'));
  await fp32.dispose();
  await q8.dispose();
});
