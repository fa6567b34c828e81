import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AdamW, globalNorm } from '../../../src/engine/train/adamw';

// Lengths around the kernels' 16384-element chunks, their 4-lane vectors and the norm's 8-lane turns.
const LENGTHS = [1, 3, 7, 12, 16384, 16384 * 2 + 5, 16384 * 2 + 13];

function wave(n: number, seed: number, scale = 1): Float32Array {
  return Float32Array.from({ length: n }, (_, i) => Math.sin(i * 0.731 + seed * 1.9) * scale);
}

/** AdamW in float64, written from the paper's formulas, not from our implementation. */
function referenceSteps(
  p0: Float32Array,
  grads: Float32Array[],
  lr: number,
  wd: number,
  scale: number,
): Float64Array {
  const [b1, b2, eps] = [0.9, 0.999, 1e-8];
  const p = Float64Array.from(p0);
  const m = new Float64Array(p.length);
  const v = new Float64Array(p.length);
  grads.forEach((g, s) => {
    const t = s + 1;
    for (let i = 0; i < p.length; i++) {
      const gi = g[i] * scale;
      m[i] = b1 * m[i] + (1 - b1) * gi;
      v[i] = b2 * v[i] + (1 - b2) * gi * gi;
      const mHat = m[i] / (1 - b1 ** t);
      const vHat = v[i] / (1 - b2 ** t);
      p[i] -= lr * (mHat / (Math.sqrt(vHat) + eps) + wd * p[i]);
    }
  });
  return p;
}

test('AdamW matches a float64 reference over three steps, with weight decay and a gradient scale', () => {
  for (const n of LENGTHS) {
    const p0 = wave(n, 1, 0.5);
    const grads = [wave(n, 2, 0.1), wave(n, 3, 0.01), wave(n, 4, 1)];
    const expected = referenceSteps(p0, grads, 1e-2, 0.1, 0.5);
    const adam = new AdamW([n], { beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.1 });
    const p = [p0.slice()];
    for (const g of grads) adam.step(p, [g], 1e-2, 0.5);
    let worst = 0;
    // Each step moves a parameter by up to lr: compare the movement, in units of lr.
    for (let i = 0; i < n; i++) worst = Math.max(worst, Math.abs(p[0][i] - expected[i]) / 1e-2);
    assert.ok(worst < 1e-3, `n=${n}: worst deviation ${worst} lr`);
    assert.equal(adam.t, 3);
  }
});

test('globalNorm is the float64 norm over all tensors', () => {
  const gs = LENGTHS.map((n, k) => wave(n, k, 2));
  let expected = 0;
  for (const g of gs) for (const x of g) expected += x * x;
  assert.ok(Math.abs(globalNorm(gs) - Math.sqrt(expected)) <= 1e-12 * Math.sqrt(expected));
  assert.equal(globalNorm([new Float32Array(5)]), 0);
});
