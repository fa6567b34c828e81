/**
 * The int8 frozen product (autodiff/int8Product.ts) on onnxruntime's real integer kernel: its
 * forward x·W and its input gradient dY·Wᵀ stay within the error the scales allow, element by
 * element. The bound is derived from the quantization, not chosen: each activation is off by at
 * most one step of its per-tensor uint8 scale, each weight by half a step of its column's scale.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Graph } from '../../../src/engine/onnx/builder';
import { gradients } from '../../../src/engine/autodiff/backward';
import { int8Product, type FrozenMatrix } from '../../../src/engine/autodiff/int8Product';
import { createSession, float32Of, toOrt } from '../../../src/engine/onnx/session';
import { Rng } from '../../../src/engine/rng';
import { int8WeightLevels } from '../../../src/engine/onnx/int8';
import { quantizeGraphInt8 } from '../../../src/engine/generate/quantize';

const [M, K, N] = [24, 48, 40];

/** W [K, N] whose rows and columns differ in magnitude: per-row and per-column scales both matter. */
function weight(rng: Rng): FrozenMatrix & { data: Float64Array } {
  const data = new Float64Array(K * N);
  for (let k = 0; k < K; k++)
    for (let n = 0; n < N; n++) data[k * N + n] = rng.normal() * 0.5 ** (k % 7) * 2 ** (n % 5);
  return { K, N, data, at: (k, n) => data[k * N + n] };
}

function randomMatrix(rng: Rng, rows: number, cols: number): Float32Array {
  return Float32Array.from({ length: rows * cols }, () => rng.normal());
}

/** The uint8 step DynamicQuantizeLinear takes for a tensor: its range, 0 included, over 255. */
function activationStep(x: Float32Array): number {
  let [lo, hi] = [0, 0];
  for (const v of x) [lo, hi] = [Math.min(lo, v), Math.max(hi, v)];
  return (hi - lo) / 255;
}

/** Symmetric int8 step of each column of w [rows, cols] (column j read through `at`), ±levels. */
function columnSteps(
  rows: number,
  cols: number,
  at: (i: number, j: number) => number,
  levels: number,
): Float64Array {
  const steps = new Float64Array(cols);
  for (let j = 0; j < cols; j++)
    for (let i = 0; i < rows; i++) steps[j] = Math.max(steps[j], Math.abs(at(i, j)) / levels);
  return steps;
}

/**
 * a [rows, inner] · w (w(i, j) for i < inner, j < cols): the exact product and, per element, the
 * bound Σᵢ (aStep·(|wᵢⱼ| + wStepⱼ/2) + |aᵢ|·wStepⱼ/2) on the int8 kernel's error.
 */
function productAndBound(
  a: Float32Array,
  rows: number,
  inner: number,
  cols: number,
  w: (i: number, j: number) => number,
  levels = int8WeightLevels(),
) {
  const aStep = activationStep(a);
  const wStep = columnSteps(inner, cols, w, levels);
  const exact = new Float64Array(rows * cols);
  const bound = new Float64Array(rows * cols);
  for (let r = 0; r < rows; r++)
    for (let j = 0; j < cols; j++) {
      let [sum, err] = [0, 0];
      for (let i = 0; i < inner; i++) {
        const [x, v] = [a[r * inner + i], w(i, j)];
        sum += x * v;
        err += aStep * (Math.abs(v) + wStep[j] / 2) + (Math.abs(x) * wStep[j]) / 2;
      }
      exact[r * cols + j] = sum;
      bound[r * cols + j] = err + 1e-5 * Math.abs(sum); // float32 accumulation
    }
  return { exact, bound };
}

/** Worst |got − exact| / bound (≤ 1 passes), and the largest error (> 0: the int8 path ran). */
function against(got: Float32Array, { exact, bound }: { exact: Float64Array; bound: Float64Array }) {
  let [worst, largest] = [0, 0];
  got.forEach((v, i) => {
    const err = Math.abs(v - exact[i]);
    worst = Math.max(worst, err / bound[i]);
    largest = Math.max(largest, err);
  });
  return { worst, largest };
}

async function runProduct(seed: number) {
  const rng = new Rng(seed);
  const w = weight(rng);
  const x = randomMatrix(rng, M, K);
  const dY = randomMatrix(rng, M, N);
  const g = new Graph();
  const xIn = g.input('x', 'float32', [M, K]);
  const dYIn = g.input('dY', 'float32', [M, N]);
  const y = int8Product(g, xIn, w, 'w');
  g.output(y, 'y');
  g.output(gradients(g, y, [xIn], dYIn).get('x')!, 'dX');
  const session = await createSession(g.toBytes(), { threads: 1 });
  const out = await session.run({ x: toOrt('float32', x, [M, K]), dY: toOrt('float32', dY, [M, N]) });
  return { w, x, dY, y: float32Of(out.y), dX: float32Of(out.dX) };
}

test('int8 product: forward x·W within the quantization bound of every element', async () => {
  const { w, x, y } = await runProduct(3);
  const r = against(
    y,
    productAndBound(x, M, K, N, (k, n) => w.at(k, n)),
  );
  assert.ok(r.worst <= 1, `worst error ${r.worst.toFixed(3)} of its bound`);
  assert.ok(r.largest > 0, 'the int8 kernel rounds: a float32 product would match exactly');
});

test('int8 product: input gradient dY·Wᵀ within the bound of Wᵀ quantized per input feature', async () => {
  const { w, dY, dX } = await runProduct(4);
  // Wᵀ [N, K]: its columns are W's rows, each with its own scale.
  const r = against(
    dX,
    productAndBound(dY, M, N, K, (n, k) => w.at(k, n)),
  );
  assert.ok(r.worst <= 1, `worst error ${r.worst.toFixed(3)} of its bound`);
  assert.ok(r.largest > 0, 'the int8 kernel rounds');
});

test('±127 weight levels stay within the bound only on a CPU given 127 (the others saturate)', async () => {
  // x86 without VNNI adds pairs of u8·s8 products in a saturating int16 (onnx/int8.ts).
  const rng = new Rng(5);
  const w = weight(rng);
  const x = randomMatrix(rng, M, K);
  const g = new Graph();
  const y = g.matmul(g.input('x', 'float32', [M, K]), g.initializer('w', Float32Array.from(w.data), [K, N]));
  g.output(y, 'y');
  assert.equal(quantizeGraphInt8(g, { maxLevel: 127, minElements: 0 }), 1);
  const session = await createSession(g.toBytes(), { threads: 1 });
  const out = await session.run({ x: toOrt('float32', x, [M, K]) });
  const r = against(
    float32Of(out.y),
    productAndBound(x, M, K, N, (k, n) => w.at(k, n), 127),
  );
  assert.equal(
    r.worst <= 1,
    int8WeightLevels() === 127,
    `at ±127 the worst error is ${r.worst.toFixed(3)} of its bound; this CPU gets ±${int8WeightLevels()}`,
  );
});
