import assert from 'node:assert/strict';
import { test } from 'node:test';
import { splitByFile, splitByFolder, splitByRecency } from '../../src/data/split';
import { OptionError } from '../../src/engine/errors';
import { commit, tempDir, writeTree } from './helpers';

const keys = Array.from({ length: 1000 }, (_, i) => `src/file${i}.ts`);

test('split by file: about valFraction held out, deterministic for a seed, stable as files come and go', () => {
  const val = splitByFile(keys, 0.1, 7);
  assert.ok(val.size > 60 && val.size < 140, `${val.size}`);
  assert.deepEqual(splitByFile(keys, 0.1, 7), val);
  assert.notDeepEqual(splitByFile(keys, 0.1, 8), val);
  // dropping half the files does not move any of the others across
  const half = splitByFile(keys.slice(0, 500), 0.1, 7);
  for (const k of keys.slice(0, 500)) assert.equal(half.has(k), val.has(k), k);
});

test('split by file: both sides get a file when there are two or more', () => {
  assert.equal(splitByFile(['a', 'b'], 0.0001, 1).size, 1);
  assert.equal(splitByFile(['a', 'b'], 0.9999, 1).size, 1);
  assert.equal(splitByFile(['a'], 0.5, 1).size <= 1, true);
  assert.equal(splitByFile(['a', 'b', 'c'], 0, 1).size, 0);
});

test('split by folder: whole folders land on one side, about valFraction of them held out', () => {
  const groups = new Map<string, string>();
  for (let p = 0; p < 200; p++) for (let f = 0; f < 5; f++) groups.set(`pkg${p}/f${f}.js`, `pkg${p}`);
  const val = splitByFolder(groups, 0.1, 3);
  const heldFolders = new Set([...val].map((k) => groups.get(k)));
  assert.ok(heldFolders.size > 8 && heldFolders.size < 35, `${heldFolders.size} folders held out`);
  for (const [key, folder] of groups) assert.equal(val.has(key), heldFolders.has(folder), key);
  assert.deepEqual(splitByFolder(groups, 0.1, 3), val);
});

test('split by recency: the newest commits are held out whole; untracked files count as newest', () => {
  const root = tempDir('git');
  commit(
    root,
    { 'old1.ts': 'a', 'old2.ts': 'b', 'old3.ts': 'c', 'mid.ts': 'd' },
    'first',
    '2020-01-01T00:00:00Z',
  );
  commit(root, { 'mid.ts': 'd2' }, 'second', '2021-01-01T00:00:00Z');
  commit(root, { 'new.ts': 'e', 'old1.ts': 'a2' }, 'third', '2022-01-01T00:00:00Z');
  writeTree(root, { 'wip.ts': 'untracked' });
  const paths = new Map(['old1.ts', 'old2.ts', 'old3.ts', 'mid.ts', 'new.ts', 'wip.ts'].map((p) => [p, p]));
  assert.deepEqual([...splitByRecency(root, paths, 0.5)].sort(), ['new.ts', 'old1.ts', 'wip.ts']);
  // Whole commits: the third commit (new.ts, old1.ts) does not fit beside wip.ts in 2 files.
  assert.deepEqual([...splitByRecency(root, paths, 0.34)].sort(), ['wip.ts']);
  // A newest commit larger than the share is held out in part.
  const big = tempDir('git');
  commit(big, { 'a.ts': 'a' }, 'first', '2020-01-01T00:00:00Z');
  commit(big, { 'b.ts': 'b', 'c.ts': 'c', 'd.ts': 'd' }, 'second', '2021-01-01T00:00:00Z');
  const bigPaths = new Map(['a.ts', 'b.ts', 'c.ts', 'd.ts'].map((p) => [p, p]));
  assert.deepEqual([...splitByRecency(big, bigPaths, 0.25)], ['b.ts']);
});

test('split by recency in a subfolder of the repository uses paths relative to that folder', () => {
  const root = tempDir('git');
  commit(root, { 'pkg/a.ts': 'a', 'pkg/b.ts': 'b' }, 'first', '2020-01-01T00:00:00Z');
  commit(root, { 'pkg/b.ts': 'b2' }, 'second', '2021-01-01T00:00:00Z');
  const paths = new Map([
    ['a.ts', 'a.ts'],
    ['b.ts', 'b.ts'],
  ]);
  assert.deepEqual([...splitByRecency(`${root}/pkg`, paths, 0.5)], ['b.ts']);
});

test('split by recency outside a git repository is a user error', () => {
  const root = tempDir('nogit');
  assert.throws(
    () => splitByRecency(root, new Map([['a', 'a']]), 0.5),
    (e: unknown) =>
      e instanceof OptionError &&
      /split recency needs a git repository/.test(e.message) &&
      e.options.join() === 'split',
  );
});
