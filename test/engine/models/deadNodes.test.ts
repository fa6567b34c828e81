// Every node of every graph we build feeds the graph's outputs: a node nothing reads is work (and
// memory) onnxruntime may still spend, as the grouped scoring graph's unused [T, T] causal bias once
// was. Checked on each family's training (LoRA, int8 base, full), scoring and inference graphs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeGptBigCodeModel, TINY_GPT_BIGCODE } from '../../../fixtures/tinyBigCode';
import { writeLlamaModel, TINY_LLAMA } from '../../../fixtures/tinyLlama';
import { writeGpt2Model, TINY_GPT2 } from '../../../fixtures/tinyModel';
import type { Graph } from '../../../src/engine/onnx/builder';
import { loadModel, type LoadedModel } from '../../../src/engine/models';
import { buildLmGraph } from '../../../src/engine/train/lmGraph';
import { buildInferenceGraph } from '../../../src/engine/generate/inferenceGraph';

/** Nodes none of whose outputs is read by another node or leaves the graph. */
function deadNodes(g: Graph): string[] {
  const read = new Set(g.outputs.map((t) => t.name));
  for (const n of g.nodes) for (const t of n.inputs) if (t) read.add(t.name);
  return g.nodes.filter((n) => !n.outputs.some((t) => t.name !== '' && read.has(t.name))).map((n) => `${n.op} ${n.name}`);
}

const root = mkdtempSync(join(tmpdir(), 'lt-dead-'));
const families: [string, () => Promise<LoadedModel>][] = [
  ['gpt2', async () => (await writeGpt2Model(join(root, 'gpt2'), TINY_GPT2, 1), loadModel(join(root, 'gpt2')))],
  ['llama (grouped-query)', async () => (writeLlamaModel(join(root, 'llama'), TINY_LLAMA, 1), loadModel(join(root, 'llama')))],
  ['qwen2', async () => (writeLlamaModel(join(root, 'qwen2'), TINY_LLAMA, 1, { modelType: 'qwen2' }), loadModel(join(root, 'qwen2')))],
  ['gpt_bigcode (multi-query)', async () => (writeGptBigCodeModel(join(root, 'bigcode'), TINY_GPT_BIGCODE, 1), loadModel(join(root, 'bigcode')))],
];

for (const [family, load] of families)
  test(`${family}: every node of its training, scoring and inference graphs is used`, async () => {
    const model = await load();
    const targets = model.family.defaultLoraTargets;
    const lora = { r: 4, alpha: 8, targets, dropout: 0, rslora: false };
    const graphs: [string, Graph][] = [
      ['scoring', buildLmGraph(model, { mode: 'frozen', withGradients: false }).graph],
      ['LoRA training', buildLmGraph(model, { mode: 'lora', lora, withGradients: true, accumulates: true }).graph],
      ['LoRA on int8', buildLmGraph(model, { mode: 'lora', lora, baseDtype: 'int8', withGradients: true }).graph],
      ['full training', buildLmGraph(model, { mode: 'full', withGradients: true, accumulates: true }).graph],
      ['inference', buildInferenceGraph(model).graph],
      ["the decoder's own", buildInferenceGraph(model, { cacheOutputs: 'new' }).graph],
    ];
    for (const [kind, g] of graphs) assert.deepEqual(deadNodes(g), [], `${family} ${kind}`);
  });
