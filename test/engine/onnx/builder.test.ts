import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Graph } from '../../../src/engine/onnx/builder';
import { createSession, toOrt } from '../../../src/engine/onnx/session';

test('a built graph runs in onnxruntime with dynamic batch and sequence dims', async () => {
  const g = new Graph();
  const x = g.input('x', 'float32', ['B', 'T', 4]);
  const w = g.initializer(
    'w',
    Float32Array.from({ length: 12 }, (_, i) => i / 10),
    [4, 3],
  );
  const y = g.reshape(g.matmul(x, w), [-1, 3]);
  assert.deepEqual(y.shape, ['B*T', 3]);
  g.output(y, 'y');
  const session = await createSession(g.toBytes());
  for (const [b, t] of [
    [1, 2],
    [3, 5],
  ]) {
    const xs = Float32Array.from({ length: b * t * 4 }, (_, i) => (i % 7) - 3);
    const out = await session.run({ x: toOrt('float32', xs, [b, t, 4]) });
    const ys = out.y.data as Float32Array;
    assert.deepEqual(out.y.dims, [b * t, 3]);
    for (let r = 0; r < b * t; r++)
      for (let c = 0; c < 3; c++) {
        let expect = 0;
        for (let k = 0; k < 4; k++) expect += xs[r * 4 + k] * ((k * 3 + c) / 10);
        assert.ok(Math.abs(ys[r * 3 + c] - expect) < 1e-5);
      }
  }
});

test('large initializers go to an external data file and the model loads from disk', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'lt-onnx-'));
  const g = new Graph();
  const x = g.input('x', 'float32', ['N', 512]);
  const w = g.initializer(
    'w',
    Float32Array.from({ length: 512 * 1024 }, (_, i) => (i % 13) / 13),
    [512, 1024],
  );
  g.output(g.reduceSum(g.matmul(x, w), [1]), 'y');
  const path = join(dir, 'model.onnx');
  g.save(path, 1024);
  assert.ok(existsSync(`${path}.data`));
  const session = await createSession(path);
  const out = await session.run({ x: toOrt('float32', new Float32Array(512).fill(1), [1, 512]) });
  let expect = 0;
  for (let i = 0; i < 512 * 1024; i++) expect += (i % 13) / 13;
  assert.ok(Math.abs((out.y.data as Float32Array)[0] - expect) / expect < 1e-5);
});
