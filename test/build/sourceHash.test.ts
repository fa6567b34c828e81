// The key of the cached e2e fixtures (scripts/sourceHash.mjs): any change to a file that makes the
// fixture, a file added to a folder, or another recipe gives another key; the same files the same.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sourceHash } from '../../scripts/sourceHash.mjs';

test('sourceHash changes with a byte of a source, a new file, or the recipe; not otherwise', () => {
  const root = mkdtempSync(join(tmpdir(), 'lt-source-hash-'));
  mkdirSync(join(root, 'fixtures'));
  writeFileSync(join(root, 'cli.js'), 'train();\n');
  writeFileSync(join(root, 'fixtures', 'model.ts'), 'export const std = 0.3;\n');
  const key = () => sourceHash(root, ['cli.js', 'fixtures'], '{"steps":20}');
  const first = key();
  assert.match(first, /^[0-9a-f]{16}$/);
  assert.equal(key(), first, 'the same files, the same key');

  writeFileSync(join(root, 'fixtures', 'model.ts'), 'export const std = 0.4;\n');
  const edited = key();
  assert.notEqual(edited, first, 'an edited fixture writer');
  writeFileSync(join(root, 'cli.js'), 'train(); \n');
  const rebuilt = key();
  assert.notEqual(rebuilt, edited, 'a rebuilt CLI');
  writeFileSync(join(root, 'fixtures', 'extra.ts'), '');
  assert.notEqual(key(), rebuilt, 'a file added to a folder');
  assert.notEqual(sourceHash(root, ['cli.js', 'fixtures'], '{"steps":21}'), key(), 'another recipe');
  assert.throws(() => sourceHash(root, ['missing.js']), /missing\.js does not exist/);
});
