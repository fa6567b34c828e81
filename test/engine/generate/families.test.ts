import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exportModel } from '../../../src/engine/generate/export';
import { saveAdapter } from '../../../src/engine/formats/peft';
import { writeGptBigCodeModel } from '../../../fixtures/tinyBigCode';
import { writeLlamaModel } from '../../../fixtures/tinyLlama';
import { Decoder } from '../../../src/engine/generate/decoder';
import { loadModel } from '../../../src/engine/models';
import { scoreIds } from '../../../src/engine/train/score';
import { buildInferenceGraph } from '../../../src/engine/generate/inferenceGraph';
import { buildLmGraph } from '../../../src/engine/train/lmGraph';
import { logprobAt, maxAbsDiff, randomAdapter, randomIds, transformersJs } from './fixtures';

const VOCAB = 300;
const LLAMA_SHAPE = {
  nLayer: 2,
  nHead: 4,
  nKvHead: 2,
  hidden: 32,
  intermediate: 48,
  maxPositions: 64,
  vocabSize: VOCAB,
};
const LLAMA_TARGETS = ['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj'];

const FAMILIES = [
  {
    name: 'llama (grouped-query, untied head)',
    write: (dir: string) => writeLlamaModel(dir, LLAMA_SHAPE, 5, { embeddingStd: 0.5, initStd: 0.15 }),
    targets: LLAMA_TARGETS,
  },
  {
    name: 'qwen2 (q/k/v biases, tied head)',
    write: (dir: string) =>
      writeLlamaModel(dir, LLAMA_SHAPE, 6, {
        modelType: 'qwen2',
        tieEmbeddings: true,
        embeddingStd: 0.5,
        initStd: 0.15,
      }),
    targets: LLAMA_TARGETS,
  },
  {
    name: 'gpt_bigcode (multi-query, fused key_value cache)',
    write: (dir: string) =>
      writeGptBigCodeModel(dir, { nLayer: 2, nHead: 4, nEmbd: 32, nPositions: 64, vocabSize: VOCAB }, 7, {
        embeddingStd: 0.5,
      }),
    targets: ['c_attn', 'c_proj', 'c_fc'],
  },
];

for (const f of FAMILIES) {
  test(`${f.name}: export + merged LoRA in transformers.js = score with the adapter (1e-4); cached = uncached decoding; same greedy tokens`, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lt-fam-'));
    const modelDir = join(dir, 'base');
    f.write(modelDir);
    const model = loadModel(modelDir);
    const adapter = randomAdapter(model, { r: 2, alpha: 4, targets: f.targets, dropout: 0, rslora: false });
    saveAdapter(join(dir, 'adapter'), adapter, { fanInFanOut: model.family.fanInFanOut });
    const outDir = join(dir, 'export');
    await exportModel({ modelDir, adapterDir: join(dir, 'adapter'), outDir, dtype: 'fp32' });

    const ids = randomIds(16, VOCAB, 11);
    const tjs = await transformersJs(outDir);
    const logits = await tjs.logits(ids);
    const V = logits.length / ids.length;
    const scored = await scoreIds(model, ids, { adapter });
    const diff = maxAbsDiff(
      scored.map((_, t) => logprobAt(logits, V, t, ids[t + 1])),
      scored,
    );
    assert.ok(diff < 1e-4, `transformers.js vs score with the adapter: ${diff}`);
    assert.ok(maxAbsDiff(await scoreIds(model, ids), scored) > 1e-2, 'the merged adapter changes the model');

    const decoder = await Decoder.fromExported(outDir, { threads: 1 });
    const prompt = ids.slice(0, 5);
    const cachedLogits: Float32Array[] = [];
    const plainLogits: Float32Array[] = [];
    const cached = await decoder.generate(prompt, {
      maxTokens: 10,
      onLogits: (l) => cachedLogits.push(l.slice()),
    });
    const plain = await decoder.generate(prompt, {
      maxTokens: 10,
      kvCache: false,
      onLogits: (l) => plainLogits.push(l.slice()),
    });
    assert.deepEqual(cached.tokens, plain.tokens);
    assert.ok(Math.max(...cachedLogits.map((l, i) => maxAbsDiff(l, plainLogits[i]))) < 1e-4);
    assert.deepEqual(
      cached.tokens,
      await tjs.greedy(prompt, cached.tokens.length),
      'same greedy tokens as transformers.js',
    );
    await tjs.dispose();

    // The Decoder's own graph (fused onnxruntime nodes where the family has them, the adapter
    // merged) decodes as the exported one does, a prompt-cache hit feeding tokens after position 0.
    const own = await Decoder.fromModel(model, { adapter, threads: 1 });
    const ownLogits: Float32Array[] = [];
    const ownRun = await own.generate(prompt, { maxTokens: 10, onLogits: (l) => ownLogits.push(l.slice()) });
    assert.deepEqual(ownRun.tokens, cached.tokens);
    assert.ok(Math.max(...ownLogits.map((l, i) => maxAbsDiff(l, cachedLogits[i]))) < 1e-4);
    const longer = [...prompt, ...cached.tokens.slice(0, 3)];
    const hit = await own.generate(longer, { maxTokens: 4 });
    assert.ok(hit.reusedTokens >= prompt.length, `prompt cache reused ${hit.reusedTokens}`);
    assert.deepEqual(
      hit.tokens,
      (await decoder.generate(longer, { maxTokens: 4, promptCache: false })).tokens,
    );
    model.weights.close();
  });
}

test("the Decoder's Llama graph uses onnxruntime's fused nodes, a training graph its norms and rotary only, an exported graph none", () => {
  const dir = mkdtempSync(join(tmpdir(), 'lt-fused-'));
  writeLlamaModel(dir, LLAMA_SHAPE, 5);
  const model = loadModel(dir);
  const ops = (g: { nodes: readonly { op: string }[] }) => {
    const count = new Map<string, number>();
    for (const n of g.nodes) count.set(n.op, (count.get(n.op) ?? 0) + 1);
    return count;
  };
  const own = ops(buildInferenceGraph(model, { cacheOutputs: 'new' }).graph);
  const layers = LLAMA_SHAPE.nLayer;
  // The first norm alone; every residual Add and the norm after it as one node.
  assert.equal(own.get('SimplifiedLayerNormalization'), 1);
  assert.equal(own.get('SkipSimplifiedLayerNormalization'), 2 * layers);
  assert.equal(own.get('RotaryEmbedding'), 2 * layers);
  // The new keys and values leave as the nodes' own outputs, not through an Identity per layer.
  assert.equal(own.get('Identity'), undefined);
  // Per layer: q/k/v as one product, o, gate/up as one, down, and attention's two.
  assert.equal(own.get('MatMul'), 6 * layers);
  // The exported graph multiplies by the checkpoint's own tensors (a file beside model.safetensors
  // references them): one product per layer, as the training graph has.
  const exported = ops(buildInferenceGraph(model).graph);
  assert.equal(exported.get('MatMul'), 9 * layers);
  assert.equal(exported.get('SimplifiedLayerNormalization'), undefined);
  assert.equal(exported.get('SkipSimplifiedLayerNormalization'), undefined);
  assert.equal(exported.get('RotaryEmbedding'), undefined);
  assert.equal(exported.get('QuickGelu'), undefined);
  // A float32 training graph: the norms, rotary and SiLU fused (their rules differentiate them),
  // every residual Add its own node, one product per layer.
  const trainingGraph = buildLmGraph(model, {
    mode: 'lora',
    lora: { r: 2, alpha: 4, targets: ['q_proj'], dropout: 0, rslora: false },
    withGradients: true,
  }).graph;
  const training = ops(trainingGraph);
  assert.ok((training.get('SimplifiedLayerNormalization') ?? 0) >= 2 * layers + 1);
  assert.ok((training.get('RotaryEmbedding') ?? 0) >= 2 * layers);
  assert.equal(training.get('SkipSimplifiedLayerNormalization'), undefined);
  // SiLU: one QuickGelu per layer forward, and its rule's Sigmoid the only one per layer.
  assert.equal(training.get('QuickGelu'), layers);
  assert.equal(training.get('Sigmoid'), layers);
  // Attention in two blocks of query positions (models/attention.ts): two softmaxes a layer; the
  // exported graph's one causal mask, one.
  assert.equal(training.get('Softmax'), 2 * layers);
  assert.equal(exported.get('Softmax'), layers);
  // Every backward rotation shares one negated sine table.
  const negatedSines = trainingGraph.nodes.filter((n) => n.op === 'Neg' && n.inputs[0]?.name === 'rope.sin');
  assert.equal(negatedSines.length, 1);
  model.weights.close();
});
