import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeLlamaModel, type LlamaShape } from '../../../fixtures/tinyLlama';
import { loadModel } from '../../../src/engine/models';
import { ropeInvFreq, type LlamaConfig } from '../../../src/engine/models/llama';
import { SafetensorsReader, writeSafetensors, type WritableTensor } from '../../../src/engine/formats/safetensors';
import { scoreIds } from '../../../src/engine/train/score';
import { checkWholeModel, float32MatchesFloat64, LLAMA_LORA, LLAMA_MICRO, LLAMA_TRAIN, trainTiny } from './wholeModel';

const MICRO = LLAMA_MICRO;
const LORA = LLAMA_LORA;
// Llama-3.2-1B's rope_scaling, scaled down so that all three frequency bands occur at head_dim 4.
const LLAMA3_SCALING = {
  rope_type: 'llama3',
  factor: 8,
  low_freq_factor: 1,
  high_freq_factor: 4,
  original_max_position_embeddings: 8,
};

function tmp(name: string): string {
  return mkdtempSync(join(tmpdir(), `lt-${name}-`));
}

test('Llama fixture: HF names, config and the Llama-2 tokenizer; loads as the llama family', () => {
  const dir = tmp('llama');
  writeLlamaModel(dir, MICRO, 3);
  const config = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8'));
  assert.equal(config.model_type, 'llama');
  assert.equal(config.num_key_value_heads, 2);
  const tok = JSON.parse(readFileSync(join(dir, 'tokenizer.json'), 'utf8'));
  assert.equal(tok.model.type, 'BPE');
  assert.equal(Object.keys(tok.model.vocab).length, 32000);
  const reader = SafetensorsReader.open(join(dir, 'model.safetensors'));
  assert.deepEqual(reader.info('model.layers.1.self_attn.k_proj.weight').shape, [8, 16]); // [KV·D, C]
  assert.deepEqual(reader.info('lm_head.weight').shape, [16, 16]);
  assert.ok(!reader.names().some((n) => n.includes('bias')));
  reader.close();
  const model = loadModel(dir);
  assert.equal(model.modelType, 'llama');
  assert.deepEqual(model.family.defaultLoraTargets, LORA.targets);
  assert.equal(model.family.fanInFanOut, false);
  assert.equal(model.family.contextLength(model.config), 8);
});

test('whole Llama model (GQA, untied head, llama3 rope), LoRA: every A and B entry matches float64 finite differences', async (t) => {
  const dir = tmp('llama');
  writeLlamaModel(dir, MICRO, 3, { ropeScaling: LLAMA3_SCALING });
  const r = await checkWholeModel(loadModel(dir), 'lora', 1, LORA);
  t.diagnostic(`worst relative error ${r.worst.toExponential(2)} over ${r.checked} entries`);
  assert.ok(r.checked > 900, `${r.checked} entries`);
  assert.equal(r.tensors.length, 2 * 7 * 2);
});

for (const mode of ['lora', 'full'] as const)
  test(`whole Llama model, ${mode}: the float32 training graph's fused rotary, RMSNorm and SiLU give the float64 graph's loss and gradients`, async (t) => {
    const dir = tmp('llama');
    writeLlamaModel(dir, MICRO, 3, { ropeScaling: LLAMA3_SCALING });
    const { ops, worst } = await float32MatchesFloat64(loadModel(dir), mode, LORA);
    t.diagnostic(`worst error ${worst.toExponential(2)} of each tensor's largest gradient`);
    for (const op of ['RotaryEmbedding', 'SimplifiedLayerNormalization', 'QuickGelu']) assert.ok(ops.has(op), op);
    assert.ok(!ops.has('Sqrt'), 'no decomposed RMSNorm');
  });

test('whole Llama model, full fine-tuning: sampled gradients of every weight match finite differences', async (t) => {
  const dir = tmp('llama');
  writeLlamaModel(dir, MICRO, 3);
  const r = await checkWholeModel(loadModel(dir), 'full', 7, LORA);
  t.diagnostic(`worst relative error ${r.worst.toExponential(2)} over ${r.checked} entries`);
  assert.ok(r.checked > 500, `${r.checked} entries`);
  assert.ok(r.tensors.includes('lm_head.weight') && r.tensors.includes('model.norm.weight'));
});

/**
 * The same model as multi-head attention: config num_key_value_heads = H and each k/v projection
 * repeated so that query head h gets key/value head ⌊h / n⌋, as HF's repeat_kv orders them.
 */
function writeRepeatedKvCopy(dir: string, out: string, shape: LlamaShape): void {
  const [H, KV, C] = [shape.nHead, shape.nKvHead, shape.hidden];
  const [D, n] = [C / H, H / KV];
  const config = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8'));
  writeFileSync(join(out, 'config.json'), JSON.stringify({ ...config, num_key_value_heads: H }));
  const reader = SafetensorsReader.open(join(dir, 'model.safetensors'));
  const tensors: Record<string, WritableTensor> = {};
  for (const name of reader.names()) {
    let data = reader.readFloat32(name); // k/v: [KV·D, C]
    let shape = reader.info(name).shape;
    if (/\.(k|v)_proj\.weight$/.test(name)) {
      const repeated = new Float32Array(H * D * C); // [H·D, C]
      for (let h = 0; h < H; h++) {
        const kv = Math.floor(h / n);
        repeated.set(data.subarray(kv * D * C, (kv + 1) * D * C), h * D * C);
      }
      [data, shape] = [repeated, [H * D, C]];
    }
    tensors[name] = { dtype: 'F32', shape, data };
  }
  reader.close();
  writeSafetensors(join(out, 'model.safetensors'), tensors, { format: 'pt' });
}

for (const nKvHead of [1, 2]) {
  test(`grouped-query attention (${nKvHead} key/value heads for 4 query heads) equals multi-head attention with HF's repeat_kv`, async () => {
    const shape = { ...MICRO, nKvHead, maxPositions: 16 };
    const [dir, mha] = [tmp('llama-gqa'), tmp('llama-mha')];
    writeLlamaModel(dir, shape, 5);
    writeRepeatedKvCopy(dir, mha, shape);
    const ids = [1, 5, 9, 2, 14, 3, 3, 7, 0, 11, 6, 12];
    const a = await scoreIds(loadModel(dir), ids);
    const b = await scoreIds(loadModel(mha), ids);
    for (let i = 0; i < a.length; i++) assert.ok(Math.abs(a[i] - b[i]) < 1e-5, `${i}: ${a[i]} vs ${b[i]}`);
  });
}

test("rope_scaling llama3: inverse frequencies match HF's _compute_llama3_parameters (Llama-3.2-1B settings)", () => {
  const cfg: Pick<LlamaConfig, 'headDim' | 'ropeTheta' | 'rope'> = {
    headDim: 64,
    ropeTheta: 500000,
    rope: { type: 'llama3', factor: 32, lowFreqFactor: 1, highFreqFactor: 4, originalMaxPositions: 8192 },
  };
  const inv = ropeInvFreq(cfg);
  // Computed with transformers' function in PyTorch (float32). By hand, for i = 16:
  // inv = 500000^(−1/2) = 1.41421e-3, wavelen = 2π/inv = 4442.9 ∈ [8192/4, 8192/1] (medium band),
  // smooth = (8192/4442.9 − 1)/(4 − 1) = 0.28129, inv' = inv·((1 − smooth)/32 + smooth) = 4.29557e-4.
  const expected: [number, number][] = [
    [0, 1.0], // high frequency (wavelen < 2048): unchanged
    [10, 0.016560440883040428],
    [14, 0.0032114461064338684],
    [15, 0.0012905480107292533], // medium: interpolated
    [16, 0.000429556705057621],
    [17, 9.708286233944818e-5],
    [18, 1.9461638657958247e-5], // low frequency (wavelen > 8192): divided by 32
    [31, 9.418306490260875e-8],
  ];
  for (const [i, want] of expected)
    assert.ok(Math.abs(inv[i] - want) <= 2e-7 * want, `inv_freq[${i}] = ${inv[i]}, HF ${want}`);
  const linear = ropeInvFreq({ ...cfg, rope: { type: 'linear', factor: 4 } });
  const plain = ropeInvFreq({ ...cfg, rope: { type: 'default' } });
  assert.equal(plain[16], Math.fround(0.001414213445968926));
  assert.ok(Math.abs(linear[16] - plain[16] / 4) < 1e-12);
});

test('config errors: unsupported rope_scaling type, heads not a multiple of key/value heads', () => {
  const dir = tmp('llama-bad');
  writeLlamaModel(dir, MICRO, 1);
  const config = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8'));
  writeFileSync(
    join(dir, 'config.json'),
    JSON.stringify({ ...config, rope_scaling: { rope_type: 'yarn', factor: 4 } }),
  );
  assert.throws(
    () => loadModel(dir),
    /rope_scaling type "yarn" is not supported \(supported: default, linear, llama3/,
  );
  writeFileSync(join(dir, 'config.json'), JSON.stringify({ ...config, num_key_value_heads: 3 }));
  assert.throws(() => loadModel(dir), /num_attention_heads 4 is not a multiple of num_key_value_heads 3/);
});

const TRAIN_SHAPE: LlamaShape = { ...LLAMA_TRAIN, vocabSize: 64 };

for (const mode of ['lora', 'full'] as const) {
  test(`Llama, ${mode}: training on a regular corpus drives the loss far below ln V, and the tuned model scores it better`, async () => {
    const dir = tmp('llama-train');
    // Tied (as SmolLM2 and Llama-3.2), with trained-scale weights (≈1/√C; see LlamaFixtureOptions.initStd).
    writeLlamaModel(join(dir, 'base'), TRAIN_SHAPE, 5, {
      embeddingStd: 0.5,
      initStd: 0.2,
      tieEmbeddings: true,
    });
    const r = await trainTiny(loadModel(join(dir, 'base')), dir, mode);
    assert.equal(r.losses.length, 30);
    assert.ok(r.losses[0] > 0.8 * r.baseline, `first loss ${r.losses[0]} near ln V = ${r.baseline}`);
    assert.ok(r.losses[29] < 0.25 * r.baseline, `last loss ${r.losses[29]} far below ${r.baseline}`);
    assert.ok(r.after > r.before + 20, `tuned log-likelihood ${r.after} beats base ${r.before}`);
  });
}
