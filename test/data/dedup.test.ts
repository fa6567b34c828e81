import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Deduper, estimateJaccard, fingerprint } from '../../src/data/dedup';
import { codeFile } from './helpers';

const exactHash = (t: string) => fingerprint(t, 0).exact;
const minhash = (t: string, seed: number) => fingerprint(t, seed).sig;
const words = (from: number, to: number) =>
  Array.from({ length: to - from }, (_, i) => `w${from + i}`).join(' ');

test('exact hash ignores whitespace differences only', () => {
  assert.equal(exactHash('a  b\n\tc\n'), exactHash(' a b c'));
  assert.notEqual(exactHash('a b c'), exactHash('a b  d'));
  assert.notEqual(exactHash('ab c'), exactHash('a b c'));
});

test('the MinHash estimate tracks the true Jaccard similarity of 5-token shingles', () => {
  // A = w0..w999, B = w100..w1099: 996 shingles each, 896 shared: J = 896 / 1096
  const a = minhash(words(0, 1000), 1);
  const b = minhash(words(100, 1100), 1);
  const est = estimateJaccard(a, b);
  assert.ok(Math.abs(est - 896 / 1096) < 0.1, `estimate ${est}`);
  assert.ok(estimateJaccard(a, minhash(words(5000, 6000), 1)) < 0.05);
  assert.equal(estimateJaccard(a, minhash(words(0, 1000), 1)), 1);
});

test('signatures are deterministic for a seed and differ between seeds', () => {
  const text = codeFile(3);
  assert.deepEqual(minhash(text, 7), minhash(text, 7));
  assert.notDeepEqual(minhash(text, 7), minhash(text, 8));
});

test('texts shorter than one shingle still get a signature', () => {
  assert.equal(estimateJaccard(minhash('a b', 1), minhash('a  b', 1)), 1);
  assert.ok(estimateJaccard(minhash('a b', 1), minhash('a c', 1)) < 0.2);
});

function verdicts(docs: string[], threshold?: number): (string | null)[] {
  const d = new Deduper(threshold);
  return docs.map((t, i) => {
    const v = d.check(`doc${i}`, exactHash(t), minhash(t, 42));
    return v.duplicate ? `${v.duplicate} of ${v.of}` : null;
  });
}

test('exact copies and whitespace-only edits are exact duplicates of the first', () => {
  const a = codeFile(1);
  assert.deepEqual(verdicts([a, codeFile(2), a.replace(/\n/g, '\r\n')]), [
    null,
    null,
    'exact-duplicate of doc0',
  ]);
});

test('a copy with a small edit is a near duplicate at 0.85; a heavily edited one is not', () => {
  const base = codeFile(1, 100); // ~300 lines
  const lines = base.split('\n');
  const small = [...lines];
  small[50] = '  return x; // changed';
  const heavy = lines.map((l, i) => (i % 3 === 0 ? `${l} // edit ${i}` : l)).join('\n');
  assert.deepEqual(verdicts([base, small.join('\n'), heavy]), [null, 'near-duplicate of doc0', null]);
});

test('the threshold is honoured: at 0.99 a small edit is kept', () => {
  const base = codeFile(1, 100);
  const lines = base.split('\n');
  for (const i of [10, 60, 110, 160, 210]) lines[i] = `  return ${i}; // changed`;
  const edited = lines.join('\n');
  const j = estimateJaccard(minhash(base, 42), minhash(edited, 42));
  assert.ok(j > 0.85 && j < 0.99, `similarity ${j}`);
  assert.deepEqual(verdicts([base, edited], 0.85), [null, 'near-duplicate of doc0']);
  assert.deepEqual(verdicts([base, edited], 0.99), [null, null]);
});

test('the summary counts both kinds', () => {
  const d = new Deduper();
  const a = codeFile(1, 100);
  for (const [i, t] of [a, a, a + '\n// one more line', codeFile(9)].entries())
    d.check(`${i}`, exactHash(t), minhash(t, 1));
  const s = d.summary();
  assert.equal(s.exactDuplicates, 1);
  assert.equal(s.nearDuplicates, 1);
  assert.equal(s.threshold, 0.85);
});
