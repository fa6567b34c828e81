import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Graph } from '../../../src/engine/onnx/builder';
import { createSession, toOrt } from '../../../src/engine/onnx/session';
import { hashDropout } from '../../../src/engine/models/dropout';

async function masks(p: number, seeds: number[]) {
  const g = new Graph();
  const x = g.input('x', 'float32', ['B', 'T', 'C']);
  const seed = g.input('seed', 'int64', []);
  g.output(hashDropout(g, x, p, seed), 'y');
  const session = await createSession(g.toBytes());
  const dims = [2, 64, 96];
  const ones = new Float32Array(2 * 64 * 96).fill(1);
  const results: Float32Array[] = [];
  for (const s of seeds) {
    const out = await session.run({
      x: toOrt('float32', ones, dims),
      seed: toOrt('int64', BigInt64Array.of(BigInt(s)), []),
    });
    results.push(out.y.data as Float32Array);
  }
  return results;
}

test('hash dropout drops about p of the elements, scales the rest by 1/(1-p), and is a function of the seed', async () => {
  const p = 0.1;
  const [a, b, a2] = await masks(p, [12345, 999, 12345]);
  const dropped = a.filter((v) => v === 0).length / a.length;
  assert.ok(Math.abs(dropped - p) < 0.01, `dropped fraction ${dropped}`);
  for (const v of a) assert.ok(v === 0 || Math.abs(v - 1 / (1 - p)) < 1e-6);
  assert.deepEqual(a2, a, 'same seed, same mask');
  const differ = a.filter((v, i) => v !== b[i]).length;
  assert.ok(differ > a.length * 0.1, 'another seed gives another mask');
  // No visible structure: neighbouring elements are dropped independently.
  let both = 0;
  for (let i = 1; i < a.length; i++) if (a[i] === 0 && a[i - 1] === 0) both++;
  assert.ok(Math.abs(both / a.length - p * p) < 0.006, `pairs dropped together: ${both / a.length}`);
});
