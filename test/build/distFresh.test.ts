// The bundles the tests run (dist/cli.js, the workers, the extension, the webviews, the e2e suites)
// are built from the sources as they are now: scripts/test.mjs builds before it tests, so no bundle
// may be older than a source file it could contain. Run alone after an edit, this fails until
// `node scripts/build.mjs`, as the tests that spawn dist/ would otherwise test the old code.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

const root = join(__dirname, '..', '..');

function files(dir: string, keep: (name: string) => boolean): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).flatMap((entry) => {
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) return files(path, keep);
    return keep(entry) ? [path] : [];
  });
}

test('every bundle in dist/ is newer than every source file it is built from', () => {
  const sources = ['src', 'webview', 'fixtures', 'test/e2e/suite'].flatMap((d) =>
    files(join(root, d), (name) => /\.(ts|mjs|js|css)$/.test(name)),
  );
  const bundles = files(join(root, 'dist'), (name) => name.endsWith('.js'));
  assert.ok(
    bundles.some((b) => b.endsWith(join('dist', 'cli.js'))),
    'dist/cli.js is built',
  );
  const newest = sources.reduce(
    (best, f) => {
      const t = statSync(f).mtimeMs;
      return t > best.t ? { f, t } : best;
    },
    { f: '', t: 0 },
  );
  const stale = bundles.filter((b) => statSync(b).mtimeMs < newest.t).map((b) => relative(root, b));
  assert.deepEqual(
    stale,
    [],
    `older than ${relative(root, newest.f)}: run node scripts/build.mjs (scripts/test.mjs does)`,
  );
});
