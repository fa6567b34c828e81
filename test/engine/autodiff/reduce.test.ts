import { attr, type Graph, type Tensor } from '../../../src/engine/onnx/builder';
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

// A float32 LayerNormalization between casts, with a step and a tolerance for float32 rounding
// (a wrong term is off by ~0.1).
gradTest(
  'LayerNormalization in float32',
  [
    { name: 'x', shape: [3, 6] },
    { name: 's', shape: [6] },
    { name: 'b', shape: [6] },
  ],
  (g, [x, s, b]) => {
    const f32 = (t: Tensor) => g.cast(t, 'float32');
    return g.cast(g.layerNorm(f32(x), f32(s), f32(b), 1e-5), 'float64');
  },
  { h: 1e-2, tolerance: 2e-3 },
);

const rmsNorm = (g: Graph, x: Tensor, s: Tensor) =>
  g.node('SimplifiedLayerNormalization', [x, s], [{ dtype: x.dtype, shape: x.shape }], {
    axis: attr.int(-1),
    epsilon: attr.float(1e-5),
  })[0];
const rmsInputs = (frozen: boolean) => [
  { name: 'x', shape: [2, 3, 6] },
  { name: 's', shape: [6], grad: !frozen },
];
for (const frozen of [false, true])
  gradTest(
    `SimplifiedLayerNormalization (RMSNorm)${frozen ? ', frozen scale' : ''}`,
    rmsInputs(frozen),
    (g, [x, s]) => rmsNorm(g, x, s),
  );
// In float32 the rule takes x̂ and 1/σ from a unit-scale SimplifiedLayerNormalization.
gradTest(
  'SimplifiedLayerNormalization in float32: x̂ and 1/σ from a unit-scale norm',
  rmsInputs(false),
  (g, [x, s]) => g.cast(rmsNorm(g, g.cast(x, 'float32'), g.cast(s, 'float32')), 'float64'),
  { h: 1e-2, tolerance: 2e-3 },
);

// com.microsoft RotaryEmbedding has no float64 kernel: checked between casts (see FastGelu). The
// angles are large enough (positions 0-4) that a rule rotating the wrong way is off by ~1.
gradTest(
  'RotaryEmbedding (rotate-half, 2 heads of 4): float32 kernel, float64 differences',
  [{ name: 'x', shape: [1, 5, 8] }],
  (g, [x]) => {
    const [cos, sin] = [Math.cos, Math.sin].map((f) =>
      g.constant(
        Array.from({ length: 8 * 2 }, (_, i) => f(Math.floor(i / 2) * 0.7 * (1 + (i % 2)))),
        'float32',
        [8, 2],
      ),
    );
    const y = g.node(
      'RotaryEmbedding',
      [g.cast(x, 'float32'), g.constant([0], 'int64', [1]), cos, sin],
      [{ dtype: 'float32', shape: x.shape }],
      { interleaved: attr.int(0), num_heads: attr.int(2) },
      'com.microsoft',
    )[0];
    return g.cast(y, 'float64');
  },
  { h: 1e-2, tolerance: 2e-3 },
);
