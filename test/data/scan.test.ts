import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { WorkspaceScanner } from '../../src/data/scan';
import { codeFile, tempDir, writeTree } from './helpers';

function scan(root: string, opts = {}) {
  const scanner = new WorkspaceScanner(root, opts);
  const files = [...scanner.files()].map((f) => f.relPath);
  return { files, skips: scanner.skips };
}

test('respects .gitignore at every level, with negation and folder rules', () => {
  const root = tempDir();
  writeTree(root, {
    '.gitignore': '*.log\nsecret/\n',
    'a.ts': codeFile(1),
    'debug.log': 'x',
    'secret/key.ts': codeFile(2),
    'sub/.gitignore': 'gen-*.ts\n!gen-keep.ts\n',
    'sub/gen-1.ts': codeFile(3),
    'sub/gen-keep.ts': codeFile(4),
    'sub/deeper/gen-2.ts': codeFile(5),
    'other/gen-3.ts': codeFile(6),
  });
  const { files, skips } = scan(root);
  assert.deepEqual(files, ['.gitignore', 'a.ts', 'other/gen-3.ts', 'sub/.gitignore', 'sub/gen-keep.ts']);
  assert.equal(skips.gitignored, 4); // debug.log, secret/, sub/gen-1.ts, sub/deeper/gen-2.ts
});

test('reads .git/info/exclude and .localtuneignore; skips .git itself', () => {
  const root = tempDir();
  writeTree(root, {
    '.git/info/exclude': 'private.ts\n',
    '.git/config': '[core]\n',
    '.localtuneignore': 'docs/\n',
    'private.ts': codeFile(1),
    'docs/readme.md': '# hi\n',
    'main.ts': codeFile(2),
  });
  const { files, skips } = scan(root);
  assert.deepEqual(files, ['.localtuneignore', 'main.ts']);
  assert.equal(skips.gitignored, 1);
  assert.equal(skips.localtuneignored, 1);
});

test('skips vendored folders at any depth, counting each folder once', () => {
  const root = tempDir();
  writeTree(root, {
    'node_modules/x/index.js': 'x',
    'node_modules/y/index.js': 'y',
    'pkg/vendor/lib.go': 'package lib',
    'pkg/.venv/lib.py': 'x = 1',
    'pkg/dist/out.js': 'x',
    'pkg/src/main.go': 'package main',
  });
  const { files, skips } = scan(root);
  assert.deepEqual(files, ['pkg/src/main.go']);
  assert.equal(skips.vendored, 4);
});

test('include and exclude patterns, gitignore syntax', () => {
  const root = tempDir();
  writeTree(root, { 'a.ts': 'a', 'b.py': 'b', 'lib/c.ts': 'c', 'lib/gen/d.ts': 'd' });
  const r = scan(root, { include: ['*.ts'], exclude: ['lib/gen/'] });
  assert.deepEqual(r.files, ['a.ts', 'lib/c.ts']);
  assert.equal(r.skips['not-included'], 1);
  assert.equal(r.skips.excluded, 1);
});

test('files over the size limit are skipped as too-large', () => {
  const root = tempDir();
  writeTree(root, { 'big.ts': 'x'.repeat(2000), 'small.ts': 'x'.repeat(100) });
  const r = scan(root, { maxFileBytes: 1000 });
  assert.deepEqual(r.files, ['small.ts']);
  assert.equal(r.skips['too-large'], 1);
});

test('symlink loops and links out of the workspace are skipped, links inside are followed once', () => {
  const outside = tempDir('outside');
  writeTree(outside, { 'elsewhere.ts': 'x' });
  const root = tempDir();
  writeTree(root, { 'src/a.ts': 'a' });
  symlinkSync(join(root, 'src'), join(root, 'src', 'loop')); // src/loop -> src
  symlinkSync(join(root, 'self'), join(root, 'self')); // a link to itself: ELOOP
  symlinkSync(outside, join(root, 'out-link'));
  symlinkSync(join(root, 'src', 'a.ts'), join(root, 'alias.ts'));
  const r = scan(root);
  assert.deepEqual(r.files, ['alias.ts', 'src/a.ts']);
  assert.equal(r.skips['symlink-loop'], 2);
  assert.equal(r.skips['symlink-outside'], 1);
});

test(
  'unreadable folders are counted and reported, the rest continues',
  { skip: process.getuid?.() === 0 },
  () => {
    const root = tempDir();
    writeTree(root, { 'ok.ts': 'x', 'locked/a.ts': 'y' });
    chmodSync(join(root, 'locked'), 0o000);
    const warnings: string[] = [];
    const r = scan(root, { onWarning: (m: string) => warnings.push(m) });
    chmodSync(join(root, 'locked'), 0o755);
    assert.deepEqual(r.files, ['ok.ts']);
    assert.equal(r.skips.unreadable, 1);
    assert.match(warnings[0], /locked: cannot read folder/);
  },
);

test('an empty folder yields nothing and counts nothing', () => {
  const root = tempDir();
  mkdirSync(join(root, 'empty'));
  assert.deepEqual(scan(root), { files: [], skips: {} });
});

test('a broken link is counted as unreadable and reported', () => {
  const root = tempDir();
  writeTree(root, { 'ok.ts': 'x' });
  symlinkSync(join(root, 'missing.ts'), join(root, 'dangling.ts'));
  const warnings: string[] = [];
  const r = scan(root, { onWarning: (m: string) => warnings.push(m) });
  assert.deepEqual(r.files, ['ok.ts']);
  assert.equal(r.skips.unreadable, 1);
  assert.match(warnings[0], /dangling\.ts: broken link/);
});
