import { attr, type Tensor } from '../../../src/engine/onnx/builder';
import { gradTest } from './gradcheck';

/** Deterministic values in [0.5, 2]: positive and away from zero (Div, Log, Sqrt, Pow bases). */
const positive = (n: number) => Array.from({ length: n }, (_, i) => 0.5 + ((i * 37) % 11) / 7);

gradTest(
  'Add: [2,3,4] with [4] and [2,1,4]',
  [
    { name: 'a', shape: [2, 3, 4] },
    { name: 'b', shape: [4] },
    { name: 'c', shape: [2, 1, 4] },
  ],
  (g, [a, b, c]) => g.add(g.add(a, b), c),
);

gradTest(
  'Add: [3,1] + [2,3,4] and a scalar',
  [
    { name: 'a', shape: [3, 1] },
    { name: 'b', shape: [2, 3, 4] },
    { name: 's', shape: [] },
  ],
  (g, [a, b, s]) => g.add(s, g.add(a, b)),
);

gradTest(
  'Sub: both broadcast directions and a scalar',
  [
    { name: 'a', shape: [2, 3, 4] },
    { name: 'b', shape: [3, 1] },
    { name: 's', shape: [] },
  ],
  (g, [a, b, s]) => g.sub(s, g.sub(b, g.sub(a, b))),
);

gradTest(
  'Mul: both broadcast directions and a scalar',
  [
    { name: 'a', shape: [2, 3, 4] },
    { name: 'b', shape: [3, 1] },
    { name: 's', shape: [] },
  ],
  (g, [a, b, s]) => g.mul(g.mul(b, a), s),
);

gradTest(
  'Div: [2,3,4] / [3,1]',
  [
    { name: 'a', shape: [2, 3, 4] },
    { name: 'b', shape: [3, 1], values: positive(3) },
  ],
  (g, [a, b]) => g.div(a, b),
);

gradTest(
  'Div: [3,1] / [2,3,4] and scalar / tensor',
  [
    { name: 'a', shape: [3, 1] },
    { name: 'b', shape: [2, 3, 4], values: positive(24) },
    { name: 's', shape: [] },
  ],
  (g, [a, b, s]) => g.add(g.div(a, b), g.div(s, b)),
);

gradTest('Pow: constant exponent 3', [{ name: 'a', shape: [2, 3] }], (g, [a]) =>
  g.pow(a, g.constant(3, 'float64', [])),
);

gradTest(
  'Pow: constant exponent 0.5 on positive inputs',
  [{ name: 'a', shape: [2, 3], values: positive(6) }],
  (g, [a]) => g.pow(a, g.constant(0.5, 'float64', [])),
);

gradTest(
  'Pow: gradient to a broadcast exponent',
  [
    { name: 'a', shape: [2, 3], values: positive(6) },
    { name: 'b', shape: [3] },
  ],
  (g, [a, b]) => g.pow(a, b),
);

gradTest('Neg', [{ name: 'x', shape: [2, 3] }], (g, [x]) => g.neg(x));
gradTest('Sqrt', [{ name: 'x', shape: [2, 3], values: positive(6) }], (g, [x]) => g.sqrt(x));
gradTest('Exp', [{ name: 'x', shape: [2, 3] }], (g, [x]) => g.exp(x));
gradTest('Log', [{ name: 'x', shape: [2, 3], values: positive(6) }], (g, [x]) => g.log(x));
gradTest('Tanh', [{ name: 'x', shape: [2, 3] }], (g, [x]) => g.tanh(x));
gradTest('Sigmoid', [{ name: 'x', shape: [2, 3] }], (g, [x]) => g.sigmoid(x));

// FastGelu (com.microsoft) has float32 kernels only: computed in float32 between casts, so the
// difference step is large and the tolerance loose (float32 rounding / 2h); a wrong term is off by ~0.1.
for (const bias of [false, true])
  gradTest(
    `FastGelu${bias ? ' with bias [4]' : ''}: float32 kernel, float64 differences`,
    [
      {
        name: 'x',
        shape: [3, 4],
        values: (n) => Array.from({ length: n }, (_, i) => -3 + (6 * i) / (n - 1)),
      },
      { name: 'b', shape: [4] },
    ],
    (g, [x, b]) => {
      const f32 = (t: Tensor) => g.cast(t, 'float32');
      const inputs = bias ? [f32(x), f32(b)] : [f32(g.add(x, b))];
      const y = g.node('FastGelu', inputs, [{ dtype: 'float32', shape: x.shape }], {}, 'com.microsoft')[0];
      return g.cast(y, 'float64');
    },
    { h: 1e-2, tolerance: 2e-3 },
  );
// QuickGelu (com.microsoft, x·σ(αx); SiLU at α = 1) is float32 only too: checked like FastGelu.
for (const alpha of [1, 1.702])
  gradTest(
    `QuickGelu, alpha ${alpha}: float32 kernel, float64 differences`,
    [
      {
        name: 'x',
        shape: [3, 4],
        values: (n) => Array.from({ length: n }, (_, i) => -4 + (8 * i) / (n - 1)),
      },
    ],
    (g, [x]) => {
      const out = [{ dtype: 'float32' as const, shape: x.shape }];
      const y = g.node(
        'QuickGelu',
        [g.cast(x, 'float32')],
        out,
        { alpha: attr.float(alpha) },
        'com.microsoft',
      )[0];
      return g.cast(y, 'float64');
    },
    { h: 1e-2, tolerance: 2e-3 },
  );
gradTest(
  'Reciprocal',
  [{ name: 'x', shape: [2, 3], values: positive(6).map((v, i) => (i % 2 ? -v : v)) }],
  (g, [x]) => g.reciprocal(x),
);
gradTest('Identity', [{ name: 'x', shape: [2, 3] }], (g, [x]) => g.identity(x));
gradTest('Cast: float64 to float64', [{ name: 'x', shape: [2, 3] }], (g, [x]) => g.cast(x, 'float64'));

// The float32 round trip rounds x to 24 bits, so the loss is a staircase at h = 1e-6: a step of
// h = 1e-3 keeps the rounding error of the difference near ulp/2h ≈ 3e-5.
gradTest(
  'Cast: float64 → float32 → float64 round trip',
  [{ name: 'x', shape: [2, 3] }],
  (g, [x]) => g.cast(g.cast(x, 'float32'), 'float64'),
  { h: 1e-3, tolerance: 1e-4 },
);

// ORT's CPU Erf has float32 kernels only, so the rule runs in float32 between two casts. Float32
// values carry ~6e-8 relative rounding: a step h = 3e-3 balances that (ulp/2h ≈ 1e-5) against the
// difference's truncation error (h²/6·|erf'''| ≈ 3e-6), hence the 1e-4 tolerance.
gradTest(
  'Erf (float32)',
  [{ name: 'x', shape: [2, 3] }],
  (g, [x]) => g.cast(g.erf(g.cast(x, 'float32')), 'float64'),
  { h: 3e-3, tolerance: 1e-4 },
);
