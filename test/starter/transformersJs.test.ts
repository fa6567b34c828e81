// transformers.js loads models/starter as shipped, through the graph that references the folder's
// own float16 model.safetensors (generate/onnxBesideSafetensors.ts), with no second copy of the
// weights: its logits for a code prompt and its greedy tokens are our engine's.
import assert from 'node:assert/strict';
import { cpSync, lstatSync, mkdtempSync, readFileSync, readlinkSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { Decoder } from '../../src/engine/generate/decoder';
import { writeOnnxBesideSafetensors } from '../../src/engine/generate/onnxBesideSafetensors';
import { loadModel } from '../../src/engine/models';
import { loadTokenizer } from '../../src/engine/tokenizer/tokenizer';
import { maxAbsDiff, transformersJs } from '../engine/generate/fixtures';

const dir = join(__dirname, '..', '..', 'models', 'starter');
const PROMPT = 'export function add(a: number, b: number): number {\n  return';

test('models/starter: the graph beside the weights is small and references model.safetensors', () => {
  assert.ok(lstatSync(join(dir, 'onnx')).isSymbolicLink());
  assert.equal(readlinkSync(join(dir, 'onnx')), '.');
  const graph = statSync(join(dir, 'model.onnx')).size;
  assert.ok(graph < 1024 * 1024, `model.onnx is ${graph} bytes: weights were copied into it`);
  assert.ok(readFileSync(join(dir, 'model.onnx')).includes('model.safetensors'));
  const config = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8'));
  assert.equal(config['transformers.js_config'].dtype, 'fp32');
});

test('models/starter: transformers.js, loading the folder unchanged, gives our logits and greedy tokens', async () => {
  const ids = (await loadTokenizer(dir)).encode(PROMPT);
  const tjs = await transformersJs(dir);
  const model = loadModel(dir);
  try {
    const decoder = await Decoder.fromModel(model);
    const ours = await decoder.forward(ids, decoder.emptyPast(), 0, { allLogits: true });
    const theirs = await tjs.logits(ids);
    assert.equal(theirs.length, ours.logits.length);
    const diff = maxAbsDiff(theirs, ours.logits);
    assert.ok(diff < 1e-3, `largest logit difference ${diff}`);
    const greedy = await tjs.greedy(ids, 16);
    const mine = await decoder.generate(ids, { maxTokens: 16 });
    assert.equal(greedy.length, 16);
    assert.deepEqual(mine.tokens, greedy);
  } finally {
    model.weights.close();
    await tjs.dispose();
  }
});

test('writing the graph again gives the same bytes (package.ts rewrites it each time)', () => {
  const copy = join(mkdtempSync(join(tmpdir(), 'lt-starter-onnx-')), 'starter');
  cpSync(dir, copy, { recursive: true });
  const result = writeOnnxBesideSafetensors(copy);
  assert.equal(result.referenced, 74, 'every weight of the 8-layer model is referenced');
  assert.deepEqual(readFileSync(join(copy, 'model.onnx')), readFileSync(join(dir, 'model.onnx')));
  assert.deepEqual(readFileSync(join(copy, 'config.json')), readFileSync(join(dir, 'config.json')));
});
