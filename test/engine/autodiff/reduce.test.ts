import { gradTest } from './gradcheck';

for (const op of ['reduceSum', 'reduceMean'] as const) {
  gradTest(`${op}: axes [0,2], keepdims 0`, [{ name: 'x', shape: [2, 3, 4] }], (g, [x]) =>
    g[op](x, [0, 2], false),
  );
  gradTest(`${op}: axes [2,0] unsorted, keepdims 1`, [{ name: 'x', shape: [2, 3, 4] }], (g, [x]) =>
    g[op](x, [2, 0], true),
  );
  gradTest(`${op}: negative axes [-1,-2], keepdims 0`, [{ name: 'x', shape: [2, 3, 4] }], (g, [x]) =>
    g[op](x, [-1, -2], false),
  );
  gradTest(`${op}: every axis, keepdims 1`, [{ name: 'x', shape: [2, 3, 4] }], (g, [x]) =>
    g[op](x, [0, 1, 2], true),
  );
}

for (const op of ['softmax', 'logSoftmax'] as const) {
  gradTest(`${op}: last axis`, [{ name: 'x', shape: [2, 3, 4] }], (g, [x]) => g[op](x, -1));
  gradTest(`${op}: a middle axis`, [{ name: 'x', shape: [2, 3, 4] }], (g, [x]) => g[op](x, 1));
}

gradTest(
  'LayerNormalization: input, scale and bias',
  [
    { name: 'x', shape: [2, 3, 6] },
    { name: 's', shape: [6] },
    { name: 'b', shape: [6] },
  ],
  (g, [x, s, b]) => g.layerNorm(x, s, b, 1e-5),
);

gradTest(
  'LayerNormalization: no bias, frozen scale',
  [
    { name: 'x', shape: [4, 5] },
    { name: 's', shape: [5], grad: false },
  ],
  (g, [x, s]) => g.layerNorm(x, s, null, 1e-5),
);
