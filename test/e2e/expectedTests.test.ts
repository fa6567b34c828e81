// The record of e2e test names (expected-tests.json) against the suite files, and the comparison
// the e2e wrapper (vscode.test.ts) makes with what ran — without starting an editor.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compareWithExpected, readExpected, titlesInSources } from './expectedTests';

test('expected-tests.json lists exactly the tests the suite files define', () => {
  const sources = titlesInSources();
  assert.ok(sources.length >= 25, `${sources.length} tests found in the suites`);
  assert.deepEqual(readExpected(), sources, 'update test/e2e/expected-tests.json with the suites');
});

test('the titles are read from the source as mocha registers them', () => {
  const dir = mkdtempSync(join(tmpdir(), 'lt-e2e-titles-'));
  writeFileSync(
    join(dir, 'a.e2e.ts'),
    "describe('A', () => {\n  it('one: it\\'s quoted', async () => {});\n  lines.split('x');\n  it(\n    'two', () => {});\n});\n",
  );
  writeFileSync(join(dir, 'b.e2e.ts'), "if (x) describe('B', () => it('three', () => {}));\n");
  writeFileSync(join(dir, 'helpers.ts'), "describe('not a suite', () => it('no', () => {}));\n");
  assert.deepEqual(titlesInSources(dir), [
    ['A', "one: it's quoted"],
    ['A', 'two'],
    ['B', 'three'],
  ]);
});

test('a suite that reports nothing fails the comparison; so does an unrecorded test', () => {
  const expected = [
    ['smoke', 'activates'],
    ['LocalTune', 'trains'],
    ['LocalTune', 'stops'],
  ];
  assert.deepEqual(compareWithExpected(expected, expected), { missing: [], unexpected: [] });
  assert.deepEqual(compareWithExpected(expected, [['smoke', 'activates']]), {
    missing: ['LocalTune › trains', 'LocalTune › stops'],
    unexpected: [],
  });
  assert.deepEqual(compareWithExpected(expected, [...expected, ['smoke', 'new']]).unexpected, [
    'smoke › new',
  ]);
  // A failing hook is reported under its own title: a failure already, not an unknown test.
  const hook = ['LocalTune', '"before all" hook for "trains"'];
  assert.deepEqual(compareWithExpected(expected, [...expected, hook]), { missing: [], unexpected: [] });
});

test('with a grep only the tests it picks are expected (substring or /regex/ over the full title)', () => {
  const expected = [
    ['smoke', 'activates'],
    ['LocalTune', 'trains'],
    ['LocalTune', 'stops'],
  ];
  assert.deepEqual(compareWithExpected(expected, [['smoke', 'activates']], 'smoke'), {
    missing: [],
    unexpected: [],
  });
  assert.deepEqual(compareWithExpected(expected, [['LocalTune', 'trains']], '/^LocalTune (trains|stops)$/'), {
    missing: ['LocalTune › stops'],
    unexpected: [],
  });
  assert.deepEqual(compareWithExpected(expected, [], 'LocalTune trains').missing, ['LocalTune › trains']);
});
