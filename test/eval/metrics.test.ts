import { test } from 'node:test';
import assert from 'node:assert/strict';
import { acceptedChars, editDistance, editSimilarity, exactMatch, quantile } from '../../src/eval/metrics';
import { maskSpans } from '../../src/eval/spans';

test('exact match ignores trailing whitespace only; accepted chars are the common prefix', () => {
  assert.ok(exactMatch('return x;\n', 'return x;'));
  assert.ok(!exactMatch(' return x;', 'return x;'));
  assert.equal(acceptedChars('return y;', 'return x;'), 7);
  assert.equal(acceptedChars('', 'abc'), 0);
});

test('edit similarity is 1 − Levenshtein / longer length', () => {
  assert.equal(editDistance('kitten', 'sitting'), 3);
  assert.equal(editSimilarity('kitten', 'sitting'), 1 - 3 / 7);
  assert.equal(editSimilarity('', ''), 1);
  assert.equal(editSimilarity('abc', ''), 0);
  assert.equal(quantile([5, 1, 3], 0.5), 3);
});

test('spans: rest of a line, whole lines after the indentation, and block bodies up to the dedent', () => {
  const text = 'function f(a) {\n  const b = a + 1;\n  return b * 2;\n}\nconst z = f(3);\n';
  const spans = maskSpans([{ id: 'a.js', text }], { count: 50, seed: 1 });
  for (const s of spans) assert.equal(s.prefix + s.expected + s.suffix, text);
  const block = spans.find((s) => s.kind === 'block')!;
  assert.equal(block.expected, 'const b = a + 1;\n  return b * 2;');
  assert.equal(block.line, 2);
  assert.equal(block.languageId, 'javascript');
  assert.ok(spans.some((s) => s.kind === 'line' && s.expected === 'return b * 2;'));
  for (const s of spans.filter((x) => x.kind === 'line-rest')) {
    assert.ok(!s.expected.includes('\n') && s.expected.length >= 4);
    assert.ok(!s.prefix.endsWith('\n'));
  }
  // Even shares over the kinds when there are enough of each.
  const few = maskSpans([{ id: 'a.js', text }], { count: 3, seed: 1 });
  assert.deepEqual(few.map((s) => s.kind).sort(), ['block', 'line', 'line-rest']);
});
