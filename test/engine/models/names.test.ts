// Weight names as transformers resolves them, on real safetensors files: a file with no tensor
// under the base-model prefix is read under prefixed names (a head such as lm_head keeps its own),
// a prefixed file as is, and the buffers a family lists are left out of the names written back.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeSafetensors, type WritableTensor } from '../../../src/engine/formats/safetensors';
import { openWeights } from '../../../src/engine/formats/weights';
import { resolveWeights, type WeightNaming } from '../../../src/engine/models/names';

const NAMING: WeightNaming = { basePrefix: 'transformer.', ignored: [/\.attn\.bias$/] };
const t = (v: number): WritableTensor => ({ dtype: 'BF16', shape: [2], data: Float32Array.of(v, -v) });

function folder(tensors: Record<string, WritableTensor>): string {
  const dir = mkdtempSync(join(tmpdir(), 'lt-names-'));
  writeSafetensors(join(dir, 'model.safetensors'), tensors, { format: 'pt' });
  return dir;
}

test('a base-model file (no prefix) answers to prefixed names; lm_head keeps its name; buffers are left out', () => {
  const w = resolveWeights(
    openWeights(folder({ 'wte.weight': t(1), 'h.0.attn.bias': t(9), 'lm_head.weight': t(2) })),
    NAMING,
  );
  assert.equal(w.prefixed, false);
  assert.deepEqual([...w.read('transformer.wte.weight').data], [1, -1]);
  assert.deepEqual([...w.read('lm_head.weight').data], [2, -2]);
  assert.equal(w.fileName('transformer.wte.weight'), 'wte.weight');
  assert.equal(w.header('transformer.h.0.attn.c_attn.weight'), undefined);
  assert.deepEqual(w.names().sort(), ['lm_head.weight', 'transformer.wte.weight']);
  assert.ok(w.isIgnored('h.0.attn.bias'));
  assert.throws(() => w.read('transformer.wpe.weight'), /no tensor named "wpe.weight"; it has .*"wte.weight"/);
  w.close();
});

test('a prefixed file is read as is, and a bare name is not guessed into it', () => {
  const w = resolveWeights(openWeights(folder({ 'transformer.wte.weight': t(3) })), NAMING);
  assert.equal(w.prefixed, true);
  assert.deepEqual([...w.read('transformer.wte.weight').data], [3, -3]);
  assert.equal(w.header('wte.weight'), undefined);
  assert.deepEqual(w.names(), ['transformer.wte.weight']);
  w.close();
});
