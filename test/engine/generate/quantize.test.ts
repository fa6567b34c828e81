/**
 * Choosing which weights an int8 inference graph keeps in float32 (quantize.ts' `keepFloat`): the
 * kept product runs through onnxruntime's float32 MatMul and matches an unquantized graph exactly,
 * the other one runs through the integer kernel and does not.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Graph } from '../../../src/engine/onnx/builder';
import { createSession, float32Of, toOrt } from '../../../src/engine/onnx/session';
import { quantizeGraphInt8 } from '../../../src/engine/generate/quantize';
import { Rng } from '../../../src/engine/rng';

const [M, K, N] = [8, 64, 32];

function twoProducts(rng: Rng): Graph {
  const g = new Graph();
  const x = g.input('x', 'float32', [M, K]);
  const w = (name: string) =>
    g.initializer(
      name,
      Float32Array.from({ length: K * N }, () => rng.normal()),
      [K, N],
    );
  g.output(g.matmul(x, w('model.layers.0.mlp.up_proj.weight')), 'up');
  g.output(g.matmul(x, w('lm_head.weight')), 'head');
  return g;
}

async function run(g: Graph, x: Float32Array) {
  const session = await createSession(g.toBytes(), { threads: 1 });
  const out = await session.run({ x: toOrt('float32', x, [M, K]) });
  return { up: float32Of(out.up), head: float32Of(out.head) };
}

test('keepFloat leaves the named weights float32 and quantizes the rest', async () => {
  const x = Float32Array.from({ length: M * K }, (_, i) => Math.sin(i));
  const reference = await run(twoProducts(new Rng(3)), x);
  const g = twoProducts(new Rng(3));
  assert.equal(quantizeGraphInt8(g, { minElements: 0, keepFloat: (w) => w.startsWith('lm_head') }), 1);
  assert.deepEqual(
    g.nodes.filter((n) => n.op !== 'Identity').map((n) => n.op),
    ['DynamicQuantizeMatMul', 'MatMul'],
  );
  assert.equal(g.initializers.get('lm_head.weight')?.data instanceof Float32Array, true);
  const quantized = await run(g, x);
  assert.deepEqual(quantized.head, reference.head);
  assert.notDeepEqual(quantized.up, reference.up);
});
