// The held-out set sized by tokens: a drawn set too small to judge a run on is topped up to a floor
// of tokens and files, in the seeded draw's order (so adding files barely moves it), never past the
// 30% of the tokens.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_HOLDOUT_FLOOR, splitByFile, withHoldOutFloor } from '../../src/data/split';

const files = (n: number, tokens = 300) => {
  const keys = Array.from({ length: n }, (_, i) => `src/file${i}.ts`);
  return { keys, sizes: new Map(keys.map((k) => [k, tokens])) };
};
const held = (keys: string[], sizes: Map<string, number>) =>
  withHoldOutFloor(splitByFile(keys, 0.1, 0), keys, 0, { sizes, ...DEFAULT_HOLDOUT_FLOOR });

test('a small workspace holds out at least the floor of tokens and files', () => {
  const { keys, sizes } = files(60);
  const val = held(keys, sizes);
  const tokens = [...val].reduce((s, k) => s + sizes.get(k)!, 0);
  assert.ok(tokens >= DEFAULT_HOLDOUT_FLOOR.minTokens, `held-out tokens ${tokens}`);
  assert.ok(val.size >= DEFAULT_HOLDOUT_FLOOR.minFiles);
});

test('adding files keeps the held-out files held out (the draw order is per file)', () => {
  const a = files(20);
  const b = files(24);
  const before = held(a.keys, a.sizes);
  const after = held(b.keys, b.sizes);
  const kept = [...before].filter((k) => after.has(k)).length;
  assert.ok(kept >= before.size - 1, `${kept} of ${before.size} stayed held out`);
});

test('never more than 30% of the tokens, and training keeps a file', () => {
  const { keys, sizes } = files(4, 1000);
  const val = held(keys, sizes);
  const tokens = [...val].reduce((s, k) => s + sizes.get(k)!, 0);
  assert.ok(tokens <= 1200, `held-out tokens ${tokens}`);
  assert.ok(val.size < keys.length);
  const big = files(200, 5000);
  assert.equal(
    held(big.keys, big.sizes).size,
    splitByFile(big.keys, 0.1, 0).size,
    'a large draw is left alone',
  );
});
