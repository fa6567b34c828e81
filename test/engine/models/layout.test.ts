import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fromStored, padZeros, toStored, unpadZeros } from '../../../src/engine/models/layout';

const matrix = (rows: number, cols: number) => Float32Array.from({ length: rows * cols }, (_, i) => i + 1);

test('padZeros appends zero rows and columns; unpadZeros takes them off', () => {
  const m = matrix(2, 3); // [[1, 2, 3], [4, 5, 6]]
  const padded = padZeros(m, [2, 3], [1, 2]);
  assert.deepEqual([...padded], [1, 2, 3, 0, 0, 4, 5, 6, 0, 0, 0, 0, 0, 0, 0]);
  assert.deepEqual(unpadZeros(padded, [3, 5], [1, 2]), m);
  assert.deepEqual([...padZeros(Float32Array.of(1, 2), [2], [3])], [1, 2, 0, 0, 0]);
  assert.deepEqual([...unpadZeros(Float32Array.of(1, 2, 0, 0, 0), [5], [3])], [1, 2]);
});

test('a padded and transposed trainable converts to the stored layout and back', () => {
  const stored = matrix(3, 2); // HF [3, 2]: the graph holds its transpose [2, 3], padded to [2, 4]
  const t = { shape: [2, 4], transposed: true, padded: [0, 1] };
  const laid = fromStored(t, stored);
  assert.deepEqual([...laid], [1, 3, 5, 0, 2, 4, 6, 0]);
  const back = toStored(t, laid);
  assert.deepEqual(back.shape, [3, 2]);
  assert.deepEqual(back.data, stored);
  // Only padded: the stored shape is the graph's without its zeros.
  assert.deepEqual(toStored({ shape: [3, 4], padded: [1, 0] }, padZeros(matrix(2, 4), [2, 4], [1, 0])), {
    data: matrix(2, 4),
    shape: [2, 4],
  });
});
