// In-graph gradient accumulation run in the real onnxruntime with each grad_in.<name> fed and
// grad.<name> fetched through the same buffer (as training does): after two micro-batches every
// buffer holds its starting value plus both batches' gradients from the plain graph.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { accumulateGradients } from '../../../src/engine/autodiff/accumulate';
import { gradients } from '../../../src/engine/autodiff/backward';
import { Graph } from '../../../src/engine/onnx/builder';
import { createSession, float32Of, toOrt } from '../../../src/engine/onnx/session';

const SHAPES: Record<string, number[]> = { w: [4, 4], table: [6, 4], tied: [5, 4], bias: [4] };

/** A Gemm gradient (w), a scatter-add from zeros (table), a scatter plus a Gemm (tied), a reduction (bias). */
function build(accumulate: boolean) {
  const g = new Graph();
  const ids = g.input('ids', 'int64', [3]);
  const tiedIds = g.input('tied_ids', 'int64', [3]);
  const p = Object.fromEntries(Object.entries(SHAPES).map(([n, s]) => [n, g.input(n, 'float32', s)]));
  const x = g.reshape(g.add(g.gather(p.table, ids), g.gather(p.tied, tiedIds)), [1, 3, 4]);
  const h = g.tanh(g.add(g.matmul(x, p.w), p.bias)); // [1, 3, 4]
  const head = g.gemm(g.reshape(h, [3, 4]), p.tied, null, { transB: true }); // [3, 5]
  const loss = g.reduceSum(g.mul(head, head), [0, 1]);
  let grads = gradients(g, loss, Object.values(p));
  if (accumulate) grads = accumulateGradients(g, grads);
  for (const name of Object.keys(SHAPES)) g.output(grads.get(name)!, `grad.${name}`);
  return g;
}

const values = (n: number, seed: number) =>
  Float32Array.from({ length: n }, (_, i) => Math.sin(seed + i * 0.7) * 0.5);
const size = (name: string) => SHAPES[name].reduce((a, b) => a * b, 1);
const batches = [
  { ids: [0, 2, 2], tied: [4, 1, 0] },
  { ids: [5, 1, 2], tied: [3, 3, 2] },
];

function feeds(batch: (typeof batches)[number]) {
  const f: Record<string, ReturnType<typeof toOrt>> = {
    ids: toOrt('int64', BigInt64Array.from(batch.ids.map(BigInt)), [3]),
    tied_ids: toOrt('int64', BigInt64Array.from(batch.tied.map(BigInt)), [3]),
  };
  Object.keys(SHAPES).forEach((n, k) => (f[n] = toOrt('float32', values(size(n), k), SHAPES[n])));
  return f;
}

test('accumulated gradients: start + two micro-batches, fed and fetched through one buffer', async () => {
  const plain = await createSession(build(false).toBytes());
  const expected = Object.fromEntries(Object.keys(SHAPES).map((n, k) => [n, values(size(n), 10 + k)]));
  for (const batch of batches) {
    const out = await plain.run(feeds(batch));
    for (const n of Object.keys(SHAPES)) {
      const d = float32Of(out[`grad.${n}`]);
      expected[n] = expected[n].map((v, i) => v + d[i]);
    }
  }

  const summing = await createSession(build(true).toBytes());
  const buffers = Object.fromEntries(Object.keys(SHAPES).map((n, k) => [n, values(size(n), 10 + k)]));
  const shared = Object.fromEntries(
    Object.entries(buffers).map(([n, b]) => [n, toOrt('float32', b, SHAPES[n])]),
  );
  for (const batch of batches) {
    const f = feeds(batch);
    const fetches: Record<string, ReturnType<typeof toOrt> | null> = {};
    for (const n of Object.keys(SHAPES)) {
      f[`grad_in.${n}`] = shared[n];
      fetches[`grad.${n}`] = shared[n];
    }
    await summing.run(f, fetches);
  }
  for (const n of Object.keys(SHAPES))
    buffers[n].forEach((v, i) =>
      assert.ok(
        Math.abs(v - expected[n][i]) <= 1e-5 * (1 + Math.abs(expected[n][i])),
        `${n}[${i}]: ${v} vs ${expected[n][i]}`,
      ),
    );
});

test('the sums fold into the Gemms and scatters that make the gradients', () => {
  const plain = build(false);
  const summing = build(true);
  const count = (g: Graph, op: string) => g.nodes.filter((n) => n.op === op).length;
  // w and tied: their weight Gemms take grad_in as C; table: its scatter starts from grad_in.
  const fed = (op: string) =>
    summing.nodes.filter((n) => n.op === op && n.inputs.some((t) => t?.name.startsWith('grad_in.'))).length;
  assert.equal(fed('Gemm'), 2);
  assert.equal(fed('ScatterND'), 1);
  assert.equal(count(summing, 'ConstantOfShape'), count(plain, 'ConstantOfShape') - 1);
  // Only the bias (a row sum) gets an Add of its own.
  assert.equal(fed('Add'), 1);
  assert.equal(count(summing, 'Add'), count(plain, 'Add') + 1);
});
