// Builds dist/ (always: the bundles the tests run must be the sources' of now, not a stale copy),
// then runs every test file under test/ with Node's test runner (TypeScript through tsx).
// Usage: node scripts/test.mjs [filter...]  — filters match against file paths.
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const filters = process.argv.slice(2);

function findTests(dir) {
  const found = [];
  for (const entry of readdirSync(dir)) {
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) found.push(...findTests(path));
    else if (/\.test\.(ts|mjs)$/.test(entry)) found.push(relative(root, path));
  }
  return found;
}

const files = findTests(join(root, 'test'))
  .filter((f) => filters.length === 0 || filters.some((x) => f.includes(x)))
  .sort();
const built = spawnSync(process.execPath, [join(root, 'scripts', 'build.mjs')], {
  cwd: root,
  stdio: 'inherit',
});
if (built.status !== 0) process.exit(built.status ?? 1);

const concurrency = process.env.CI ? '1' : '2';
const result = spawnSync(
  process.execPath,
  ['--import', 'tsx', '--test', `--test-concurrency=${concurrency}`, ...files],
  {
    cwd: root,
    stdio: 'inherit',
    // Freed memory is slow to re-touch on these machines; keep glibc from returning it (docs/peers.md).
    // LOCALTUNE_BUILT: dist/ was just built; the e2e wrapper need not build it again.
    env: {
      ...process.env,
      MALLOC_MMAP_MAX_: '0',
      MALLOC_TRIM_THRESHOLD_: '68719476736',
      // Transparent huge pages for glibc's heap, as src/jobs/fork.ts's WORKER_ENV asks.
      GLIBC_TUNABLES: process.env.GLIBC_TUNABLES ?? 'glibc.malloc.hugetlb=1',
      LOCALTUNE_BUILT: '1',
    },
  },
);
process.exit(result.status ?? 1);
