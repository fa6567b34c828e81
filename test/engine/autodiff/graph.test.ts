import assert from 'node:assert/strict';
import { test } from 'node:test';
import { gradients } from '../../../src/engine/autodiff/backward';
import { Graph, type Tensor } from '../../../src/engine/onnx/builder';
import { gradTest } from './gradcheck';

gradTest(
  'Fan-out: x feeds three nodes and its gradients are summed',
  [{ name: 'x', shape: [2, 3] }],
  (g, [x]) => g.add(g.mul(x, x), g.add(g.tanh(x), g.reduceSum(x, [1], true))),
);

/** y = tanh(x·a)·f·b with f frozen between the trainable a and b. */
function frozenChain(g: Graph, [x, a, f, b]: Tensor[]): Tensor {
  return g.matmul(g.matmul(g.tanh(g.matmul(x, a)), f), b);
}

const chainInputs = (fGrad: boolean) => [
  { name: 'x', shape: [2, 3], grad: false },
  { name: 'a', shape: [3, 4] },
  { name: 'f', shape: [4, 4], grad: fGrad },
  { name: 'b', shape: [4, 2] },
];

gradTest('Frozen weight between trainable ones', chainInputs(false), frozenChain);

test('Frozen weight: no gradient is emitted for it or for the frozen input', () => {
  const products = (trainable: string[]) => {
    const g = new Graph();
    const xs = chainInputs(false).map((i) => g.input(i.name, 'float64', i.shape));
    const loss = g.reduceSum(frozenChain(g, xs), [0, 1]);
    const before = g.nodes.length;
    const grads = gradients(
      g,
      loss,
      xs.filter((x) => trainable.includes(x.name)),
    );
    assert.deepEqual([...grads.keys()].sort(), [...trainable].sort());
    return g.nodes.slice(before).filter((n) => n.op === 'MatMul' || n.op === 'Gemm').length;
  };
  // d(h·b): dh and db; d(t·f): dt only; d(x·a): da only.
  assert.equal(products(['a', 'b']), 4);
  assert.equal(products(['a', 'f', 'b']), 5);
  assert.equal(products(['b']), 1);
});

const symbolic = {
  sizes: [
    { B: 2, T: 3 },
    { B: 1, T: 5 },
  ],
};

gradTest(
  'Symbolic dims: linear, bias, LayerNorm and a mean over T at two sizes',
  [
    { name: 'x', shape: ['B', 'T', 4] },
    { name: 'w', shape: [4, 3] },
    { name: 'bias', shape: [3] },
    { name: 's', shape: [3] },
  ],
  (g, [x, w, bias, s]) => g.reduceMean(g.layerNorm(g.add(g.matmul(x, w), bias), s, null, 1e-5), [1], false),
  symbolic,
);

gradTest(
  'Symbolic dims: attention (reshape with 0, transpose, batched matmul, softmax)',
  [
    { name: 'x', shape: ['B', 'T', 4] },
    { name: 'w', shape: [4, 4] },
  ],
  (g, [x, w]) => {
    const heads = g.transpose(g.reshape(g.matmul(x, w), [0, 0, 2, 2]), [0, 2, 1, 3]); // [B, 2, T, 2]
    const att = g.softmax(g.matmul(heads, g.transpose(heads, [0, 1, 3, 2])), -1); // [B, 2, T, T]
    return g.reshape(g.transpose(g.matmul(att, heads), [0, 2, 1, 3]), [0, 0, -1]); // [B, T, 4]
  },
  symbolic,
);

gradTest(
  'Symbolic dims: concat, slice, split, expand and where along T',
  [
    { name: 'x', shape: ['B', 'T', 4] },
    { name: 'bias', shape: [4] },
  ],
  (g, [x, bias]) => {
    const [head, tail] = g.split(x, [1, 3], 2);
    const joined = g.concat([g.concat([tail, head], 2), g.slice(x, [1], [100], [1])], 1); // [B, ~2T-1, 4]
    const masked = g.where(
      g.less(joined, g.constant(0, 'float64', [])),
      joined,
      g.expand(bias, g.shapeOf(joined), joined.shape),
    );
    return g.add(g.reduceMean(masked, [1], false), g.reduceSum(x, [1], false)); // [B, 4]
  },
  symbolic,
);

gradTest(
  'Symbolic dims: embedding lookup and cross-entropy over N rows',
  [
    { name: 'table', shape: [5, 3] },
    { name: 'w', shape: [3, 4] },
    {
      name: 'ids',
      shape: ['N'],
      dtype: 'int64',
      values: (n) => Array.from({ length: n }, (_, i) => (i * 3) % 5),
    },
    {
      name: 'labels',
      shape: ['N'],
      dtype: 'int64',
      values: (n) => Array.from({ length: n }, (_, i) => (i * 2) % 4),
    },
  ],
  (g, [table, w, ids, labels]) => g.softmaxCrossEntropy(g.matmul(g.gather(table, ids), w), labels).loss,
  { sizes: [{ N: 3 }, { N: 7 }] },
);
