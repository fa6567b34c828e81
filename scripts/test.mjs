// Builds dist/ (always: the bundles the tests run must be the sources' of now, not a stale copy),
// then runs every test file under test/ with Node's test runner (TypeScript through tsx).
// Usage: node scripts/test.mjs [filter...]  — filters match against file paths.
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const { tsImport } = await import('tsx/esm/api');
const { WORKER_ENV } = await tsImport('../src/jobs/fork.ts', import.meta.url);
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
    // The allocator settings every worker gets (src/jobs/fork.ts, docs/peers.md): glibc keeps
    // freed memory and puts its heap in huge pages. The CLI under test then needs no relaunch.
    // LOCALTUNE_BUILT: dist/ was just built; the e2e wrapper need not build it again.
    env: { ...process.env, ...WORKER_ENV, LOCALTUNE_BUILT: '1' },
  },
);
process.exit(result.status ?? 1);
