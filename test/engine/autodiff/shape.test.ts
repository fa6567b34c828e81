import { gradTest } from './gradcheck';

gradTest('Reshape: with 0 and -1', [{ name: 'x', shape: [2, 3, 4] }], (g, [x]) => g.reshape(x, [0, -1, 2]));

gradTest('Transpose: [2,3,4] by [1,2,0]', [{ name: 'x', shape: [2, 3, 4] }], (g, [x]) =>
  g.transpose(x, [1, 2, 0]),
);

gradTest('Unsqueeze: axes 0 and -1', [{ name: 'x', shape: [2, 3] }], (g, [x]) => g.unsqueeze(x, [0, -1]));

gradTest('Squeeze: a middle axis', [{ name: 'x', shape: [2, 1, 3] }], (g, [x]) => g.squeeze(x, [1]));

gradTest('Expand: [3,1] to [2,3,4]', [{ name: 'x', shape: [3, 1] }], (g, [x]) =>
  g.expand(x, g.ints([2, 3, 4]), [2, 3, 4]),
);

gradTest(
  'Gather: embedding lookup [5,3] with repeated int64 ids [2,3]',
  [
    { name: 'table', shape: [5, 3] },
    { name: 'ids', shape: [2, 3], dtype: 'int64', values: [1, 4, 1, 0, 4, 4] },
  ],
  (g, [table, ids]) => g.gather(table, ids, 0),
);

gradTest(
  'Where: condition from a comparison on a trainable input that is also a branch',
  [
    { name: 'x', shape: [2, 3] },
    { name: 'b', shape: [3] },
  ],
  (g, [x, b]) => g.where(g.less(x, g.constant(0, 'float64', [])), g.mul(x, x), b),
);

gradTest(
  'Where: broadcast condition [3,1] and scalar branch',
  [
    { name: 'x', shape: [3, 1], grad: false },
    { name: 'a', shape: [2, 3, 4] },
    { name: 'b', shape: [] },
  ],
  (g, [x, a, b]) => g.where(g.less(x, g.constant(0, 'float64', [])), a, b),
);

gradTest(
  'Concat: three inputs of different sizes on a middle axis',
  [
    { name: 'a', shape: [2, 1, 3] },
    { name: 'b', shape: [2, 2, 3] },
    { name: 'c', shape: [2, 3, 3] },
  ],
  (g, [a, b, c]) => g.concat([a, b, c], 1),
);

gradTest(
  'Concat: negative axis',
  [
    { name: 'a', shape: [2, 2] },
    { name: 'b', shape: [2, 3] },
  ],
  (g, [a, b]) => g.concat([a, b], -1),
);

gradTest('Split: one output unused by the loss', [{ name: 'x', shape: [2, 6, 2] }], (g, [x]) => {
  const [p, , r] = g.split(x, [1, 2, 3], 1);
  return g.add(g.slice(r, [0], [1], [1]), p);
});

gradTest('Split: negative axis, all outputs used', [{ name: 'x', shape: [2, 5] }], (g, [x]) => {
  const [p, q] = g.split(x, [2, 3], -1);
  return g.concat([q, p], 1);
});

gradTest('Slice: positive bounds on a middle axis', [{ name: 'x', shape: [2, 5, 3] }], (g, [x]) =>
  g.slice(x, [1], [4], [1]),
);

gradTest('Slice: negative start and end', [{ name: 'x', shape: [2, 5, 3] }], (g, [x]) =>
  g.slice(x, [-4, 0], [-1, 2], [1, 2]),
);

gradTest('Slice: out-of-range end and negative axis', [{ name: 'x', shape: [2, 5, 3] }], (g, [x]) =>
  g.slice(x, [2], [100], [-2]),
);

gradTest('Slice: out-of-range negative start', [{ name: 'x', shape: [4, 3] }], (g, [x]) =>
  g.slice(x, [-10], [2], [0]),
);

// An empty slice (start past end) still has a gradient of the input's shape: zeros.
gradTest(
  'Slice: empty range, start past end',
  [
    { name: 'x', shape: [2, 4] },
    { name: 'y', shape: [2, 4] },
  ],
  (g, [x, y]) => g.concat([g.slice(x, [3], [1], [1]), y], 1),
);

gradTest(
  'Slice: run-time bounds (sliceDynamic), negative start',
  [
    { name: 'x', shape: [2, 5] },
    { name: 'starts', shape: [1], dtype: 'int64', values: [-4] },
    { name: 'ends', shape: [1], dtype: 'int64', values: [4] },
  ],
  (g, [x, starts, ends]) => g.sliceDynamic(x, starts, ends, [1], [2, 'S']),
  { sizes: [{ S: 3 }] },
);

gradTest('Gather: a scalar index (a last-token pick)', [{ name: 'x', shape: [4, 3] }], (g, [x]) =>
  g.gather(x, g.constant(2, 'int64', []), 0),
);

gradTest(
  'Gather: negative ids, and int32 ids cast for the scatter',
  [
    { name: 'table', shape: [4, 3] },
    { name: 'ids', shape: [3], dtype: 'int64', values: [-1, 0, 3] },
  ],
  (g, [table, ids]) => g.add(g.gather(table, ids, 0), g.gather(table, g.cast(ids, 'int32'), 0)),
);
