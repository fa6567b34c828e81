import { gradTest } from './gradcheck';

gradTest(
  'MatMul: 2-D × 2-D',
  [
    { name: 'a', shape: [3, 4] },
    { name: 'b', shape: [4, 5] },
  ],
  (g, [a, b]) => g.matmul(a, b),
);

gradTest(
  'MatMul: batched × batched [2,3,4]×[2,4,5]',
  [
    { name: 'a', shape: [2, 3, 4] },
    { name: 'b', shape: [2, 4, 5] },
  ],
  (g, [a, b]) => g.matmul(a, b),
);

gradTest(
  'MatMul: batched activations × a shared 2-D weight',
  [
    { name: 'a', shape: [2, 3, 4] },
    { name: 'b', shape: [4, 5] },
  ],
  (g, [a, b]) => g.matmul(a, b),
);

gradTest(
  'MatMul: shared 2-D left operand × batched',
  [
    { name: 'a', shape: [3, 4] },
    { name: 'b', shape: [2, 4, 5] },
  ],
  (g, [a, b]) => g.matmul(a, b),
);

gradTest(
  'MatMul: attention-style [2,2,3,4]×[2,2,4,3]',
  [
    { name: 'q', shape: [2, 2, 3, 4] },
    { name: 'k', shape: [2, 2, 4, 3] },
  ],
  (g, [q, k]) => g.matmul(q, k),
);

gradTest(
  'MatMul: batch axis broadcast from 1 [2,1,3,4]×[1,2,4,5]',
  [
    { name: 'a', shape: [2, 1, 3, 4] },
    { name: 'b', shape: [1, 2, 4, 5] },
  ],
  (g, [a, b]) => g.matmul(a, b),
);

for (const transA of [false, true])
  for (const transB of [false, true])
    gradTest(
      `Gemm: transA ${transA}, transB ${transB}, alpha 0.75, beta 1.5, C [N]`,
      [
        { name: 'a', shape: transA ? [4, 3] : [3, 4] },
        { name: 'b', shape: transB ? [5, 4] : [4, 5] },
        { name: 'c', shape: [5] },
      ],
      (g, [a, b, c]) => g.gemm(a, b, c, { transA, transB, alpha: 0.75, beta: 1.5 }),
    );

gradTest(
  'Gemm: C broadcast from [1,N], default alpha and beta',
  [
    { name: 'a', shape: [3, 4] },
    { name: 'b', shape: [4, 5] },
    { name: 'c', shape: [1, 5] },
  ],
  (g, [a, b, c]) => g.gemm(a, b, c),
);

gradTest(
  'Gemm: C [M,N], no C on a second product',
  [
    { name: 'a', shape: [3, 4] },
    { name: 'b', shape: [4, 5] },
    { name: 'c', shape: [3, 5] },
  ],
  (g, [a, b, c]) => g.add(g.gemm(a, b, c, { beta: -2 }), g.gemm(a, b, null, { alpha: 2 })),
);

// β is a float32 attribute: with only C trainable the check is exact enough (noise ~1e-10) to see
// a rule that scales by float64 10.1 instead of the forward's fround(10.1) (3.8e-8 apart).
gradTest(
  'Gemm: dC uses the float32 β the forward used',
  [
    { name: 'a', shape: [8, 3], grad: false },
    { name: 'b', shape: [3, 2], grad: false },
    { name: 'c', shape: [2] },
  ],
  (g, [a, b, c]) => g.gemm(a, b, c, { beta: 10.1 }),
  { tolerance: 1e-8 },
);

gradTest(
  'MatMul: rank-4 activations × a shared 2-D weight',
  [
    { name: 'a', shape: [2, 2, 3, 4] },
    { name: 'b', shape: [4, 5] },
  ],
  (g, [a, b]) => g.matmul(a, b),
);

gradTest(
  'Gemm: scalar C',
  [
    { name: 'a', shape: [3, 4] },
    { name: 'b', shape: [4, 5] },
    { name: 'c', shape: [] },
  ],
  (g, [a, b, c]) => g.gemm(a, b, c, { beta: 0.5 }),
);
