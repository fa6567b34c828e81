import { test } from 'node:test';
import { gradCheck } from './gradcheck';

test('MatMul: batched activations times a shared weight', async () => {
  await gradCheck(
    [
      { name: 'a', shape: [2, 3, 4] },
      { name: 'b', shape: [4, 5] },
    ],
    (g, [a, b]) => g.matmul(a, b),
  );
});

test('Add with broadcasting reduces back to each input shape', async () => {
  await gradCheck(
    [
      { name: 'a', shape: [2, 3, 4] },
      { name: 'b', shape: [4] },
      { name: 'c', shape: [2, 1, 4] },
    ],
    (g, [a, b, c]) => g.add(g.add(a, b), c),
  );
});

test('LayerNormalization: input, scale and bias', async () => {
  await gradCheck(
    [
      { name: 'x', shape: [2, 3, 6] },
      { name: 's', shape: [6] },
      { name: 'b', shape: [6] },
    ],
    (g, [x, s, b]) => g.layerNorm(x, s, b, 1e-5),
  );
});
