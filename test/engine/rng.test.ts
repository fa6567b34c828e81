import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../../src/engine/rng';

function take(r: Rng, n: number): number[] {
  return Array.from({ length: n }, () => r.next());
}

test('same seed gives the same sequence; different seeds differ', () => {
  assert.deepEqual(take(new Rng(42), 100), take(new Rng(42), 100));
  assert.notDeepEqual(take(new Rng(42), 100), take(new Rng(43), 100));
  // Seeds above 2^32 must not collapse onto their low 32 bits.
  assert.notDeepEqual(take(new Rng(2 ** 32 + 5), 10), take(new Rng(5), 10));
});

test('the sequence is pinned (changing the algorithm breaks saved runs)', () => {
  // Regenerate only on a deliberate algorithm change, and say so in the commit.
  const r = new Rng(0);
  const first = [r.nextU32(), r.nextU32(), r.nextU32()];
  assert.deepEqual(first, PINNED_SEED0);
});

test('next() is uniform in [0, 1)', () => {
  const r = new Rng(1);
  const n = 200_000;
  const bins = new Array(10).fill(0);
  let sum = 0;
  for (let i = 0; i < n; i++) {
    const x = r.next();
    assert.ok(x >= 0 && x < 1);
    bins[Math.floor(x * 10)]++;
    sum += x;
  }
  assert.ok(Math.abs(sum / n - 0.5) < 0.005, `mean ${sum / n}`);
  for (const b of bins) assert.ok(Math.abs(b / n - 0.1) < 0.005, `bin ${b / n}`);
});

test('nextInt covers [0, n) evenly and rejects bad n', () => {
  const r = new Rng(2);
  const counts = new Array(7).fill(0);
  for (let i = 0; i < 70_000; i++) counts[r.nextInt(7)]++;
  for (const c of counts) assert.ok(Math.abs(c - 10_000) < 500, `count ${c}`);
  assert.equal(r.nextInt(1), 0);
  assert.throws(() => r.nextInt(0));
  assert.throws(() => r.nextInt(2.5));
});

test('normal() has mean 0 and std 1; fillNormal matches normal()', () => {
  const r = new Rng(3);
  const n = 200_000;
  let s = 0;
  let s2 = 0;
  for (let i = 0; i < n; i++) {
    const z = r.normal();
    s += z;
    s2 += z * z;
  }
  const mean = s / n;
  const std = Math.sqrt(s2 / n - mean * mean);
  assert.ok(Math.abs(mean) < 0.01, `mean ${mean}`);
  assert.ok(Math.abs(std - 1) < 0.01, `std ${std}`);

  // fillNormal must continue exactly like normal(), whatever the pending pair state and count parity.
  for (const [pre, count] of [
    [0, 11],
    [1, 11],
    [1, 10],
    [0, 10],
    [3, 1],
    [0, 0],
  ]) {
    const a = new Rng(9);
    const b = new Rng(9);
    for (let k = 0; k < pre; k++) assert.equal(a.normal(), b.normal());
    const filled = new Float64Array(count);
    a.fillNormal(filled, 0.02, 1);
    for (let i = 0; i < count; i++)
      assert.equal(filled[i], 1 + 0.02 * b.normal(), `pre ${pre} count ${count} i ${i}`);
    assert.deepEqual(a.state(), b.state());
    for (let k = 0; k < 3; k++) assert.equal(a.normal(), b.normal());
  }
});

test('state round-trips, including a pending normal, through JSON', () => {
  const r = new Rng(4);
  take(r, 5);
  r.normal(); // leaves the second Box-Muller value pending
  const restored = Rng.fromState(JSON.parse(JSON.stringify(r.state())));
  for (let i = 0; i < 20; i++) assert.equal(restored.normal(), r.normal());
  assert.deepEqual(take(restored, 20), take(r, 20));
  assert.throws(() => Rng.fromState([1, 2]));
});

test('fork gives stable, independent streams and leaves the parent untouched', () => {
  const r = new Rng(5);
  const before = r.state();
  const a1 = take(r.fork('dropout'), 50);
  const a2 = take(r.fork('dropout'), 50);
  const b = take(r.fork('init'), 50);
  const n1 = take(r.fork(1), 50);
  const s1 = take(r.fork('1'), 50);
  assert.deepEqual(r.state(), before);
  assert.deepEqual(a1, a2);
  assert.notDeepEqual(a1, b);
  assert.notDeepEqual(n1, s1);
  assert.notDeepEqual(a1, take(new Rng(5), 50));
  // Streams should look uncorrelated.
  const x = take(r.fork('x'), 20_000);
  const y = take(r.fork('y'), 20_000);
  let cov = 0;
  for (let i = 0; i < x.length; i++) cov += (x[i] - 0.5) * (y[i] - 0.5);
  assert.ok(Math.abs(cov / x.length) < 0.003, `cov ${cov / x.length}`);
});

const PINNED_SEED0 = [445360983, 631390712, 660504614];
