import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UserError } from '../../../src/engine/errors';
import {
  bfloat16BitsToFloat32,
  float16BitsToFloat32,
  float32ToBfloat16Bits,
  float32ToFloat16Bits,
  writeSafetensors,
  type WritableTensor,
} from '../../../src/engine/formats/safetensors';
import { writeGpt2Model } from '../../../fixtures/tinyModel';
import { openWeights } from '../../../src/engine/formats/weights';
import { loadModel } from '../../../src/engine/models';

const TINY = { nLayer: 2, nHead: 2, nEmbd: 8, nPositions: 16 };
const SHARD_A = 'model-00001-of-00002.safetensors';
const SHARD_B = 'model-00002-of-00002.safetensors';
const INDEX = 'model.safetensors.index.json';

function tempDir(t: { after: (fn: () => void) => void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'localtune-weights-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

function throwsUser(fn: () => unknown, ...parts: string[]) {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof UserError, `expected a UserError, got ${err}`);
    assert.ok(!err.message.includes('\n'), 'one line');
    for (const p of parts) assert.ok(err.message.includes(p), `"${err.message}" lacks "${p}"`);
    return true;
  });
}

/** The tiny GPT-2's tensors as f32, by name. */
async function tinyTensors(dir: string): Promise<Map<string, { data: Float32Array; shape: number[] }>> {
  await writeGpt2Model(dir, TINY, 5);
  const w = openWeights(dir);
  const out = new Map(w.names().map((n) => [n, w.read(n)]));
  w.close();
  rmSync(join(dir, 'model.safetensors'));
  return out;
}

/**
 * Re-saves a model as transformers does with max_shard_size: the layer-0 tensors and the embeddings
 * in an F16 shard, the rest in a BF16 shard, and an index mapping each name to its shard.
 */
function writeShards(
  dir: string,
  tensors: Map<string, { data: Float32Array; shape: number[] }>,
): Map<string, string> {
  const shardOf = new Map<string, string>();
  const shards: Record<string, Record<string, WritableTensor>> = { [SHARD_A]: {}, [SHARD_B]: {} };
  for (const [name, t] of tensors) {
    const shard =
      name.includes('.h.0.') || name.includes('.wte.') || name.includes('.wpe.') ? SHARD_A : SHARD_B;
    shardOf.set(name, shard);
    shards[shard][name] = { dtype: shard === SHARD_A ? 'F16' : 'BF16', shape: t.shape, data: t.data };
  }
  for (const [file, ts] of Object.entries(shards)) writeSafetensors(join(dir, file), ts, { format: 'pt' });
  writeFileSync(
    join(dir, INDEX),
    JSON.stringify({ metadata: { total_size: 0 }, weight_map: Object.fromEntries(shardOf) }, null, 2),
  );
  return shardOf;
}

test('a single model.safetensors: names and f32 tensors', async (t) => {
  const dir = tempDir(t);
  await writeGpt2Model(dir, TINY, 5);
  const w = openWeights(dir);
  t.after(() => w.close());
  assert.equal(w.names().length, 4 + 12 * TINY.nLayer);
  const wpe = w.read('transformer.wpe.weight');
  assert.deepEqual(wpe.shape, [16, 8]);
  assert.ok(wpe.data instanceof Float32Array);
});

test('sharded weights with an F16 and a BF16 shard load as f32, equal to the rounded originals', async (t) => {
  const dir = tempDir(t);
  const original = await tinyTensors(dir);
  const shardOf = writeShards(dir, original);
  assert.ok(new Set(shardOf.values()).size === 2);

  const w = openWeights(dir);
  t.after(() => w.close());
  assert.deepEqual(w.names().sort(), [...original.keys()].sort());
  for (const [name, t0] of original) {
    const got = w.read(name);
    assert.deepEqual(got.shape, t0.shape, name);
    assert.ok(got.data instanceof Float32Array, name);
    const expected =
      shardOf.get(name) === SHARD_A
        ? float16BitsToFloat32(float32ToFloat16Bits(t0.data))
        : bfloat16BitsToFloat32(float32ToBfloat16Bits(t0.data));
    assert.deepEqual(got.data, expected, name);
  }
  // Rounding is small: f16 keeps 11 significant bits, bf16 8.
  const wte = w.read('transformer.wte.weight').data;
  const wte0 = original.get('transformer.wte.weight')!.data;
  for (let i = 0; i < 100; i++) assert.ok(Math.abs(wte[i] - wte0[i]) <= Math.abs(wte0[i]) * 2 ** -11 + 1e-7);
});

test('exact f16 / bf16 values through shards', (t) => {
  const dir = tempDir(t);
  const x = new Float32Array([1, -2.5, 1 / 3, 65504, 2 ** -24]);
  writeSafetensors(join(dir, SHARD_A), { a: { dtype: 'F16', shape: [5], data: x } });
  writeSafetensors(join(dir, SHARD_B), { b: { dtype: 'BF16', shape: [5], data: x } });
  writeFileSync(join(dir, INDEX), JSON.stringify({ weight_map: { a: SHARD_A, b: SHARD_B } }));
  const w = openWeights(dir);
  t.after(() => w.close());
  assert.deepEqual([...w.read('a').data], [1, -2.5, 0.333251953125, 65504, 2 ** -24]);
  assert.deepEqual([...w.read('b').data], [1, -2.5, 0.333984375, 65536, 2 ** -24]);
});

test('loadModel reads a sharded half-precision folder', async (t) => {
  const dir = tempDir(t);
  writeShards(dir, await tinyTensors(dir));
  const model = loadModel(dir);
  t.after(() => model.weights.close());
  assert.equal(model.modelType, 'gpt2');
  assert.deepEqual(model.weights.read('transformer.h.1.mlp.c_fc.weight').shape, [8, 32]);
});

test('a missing shard, an unknown tensor and a bad index are clear errors', async (t) => {
  const dir = tempDir(t);
  writeShards(dir, await tinyTensors(dir));
  const w = openWeights(dir);
  throwsUser(() => w.read('lm_head.weight'), INDEX, '"lm_head.weight"', 'weight_map');
  w.close();

  rmSync(join(dir, SHARD_B));
  throwsUser(() => openWeights(dir), `"${SHARD_B}"`, 'missing', INDEX);

  writeFileSync(join(dir, INDEX), '{ not json');
  throwsUser(() => openWeights(dir), INDEX, 'not valid JSON');
  writeFileSync(join(dir, INDEX), JSON.stringify({ metadata: {} }));
  throwsUser(() => openWeights(dir), INDEX, 'weight_map');
  writeFileSync(join(dir, INDEX), JSON.stringify({ weight_map: { a: '../elsewhere.safetensors' } }));
  throwsUser(() => openWeights(dir), INDEX, '"a"', '../elsewhere.safetensors');
});

test('pickle checkpoints are refused; an empty folder says what is missing', (t) => {
  const dir = tempDir(t);
  throwsUser(() => openWeights(dir), 'no model.safetensors', INDEX);
  writeFileSync(join(dir, 'pytorch_model.bin.index.json'), '{}');
  throwsUser(
    () => openWeights(dir),
    'pytorch_model.bin.index.json',
    'never runs pickled code',
    'model.safetensors',
  );
});
