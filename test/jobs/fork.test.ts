// How workers are forked: glibc keeps freed memory and asks for transparent huge pages. A real
// worker allocates 256 MB and reads its own /proc/self/smaps_rollup, so the test sees what the
// kernel gave it, not what we asked for.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { forkWorker, hasWorkerEnv, withHugePages } from '../../src/jobs/fork';

const tmp = mkdtempSync(join(tmpdir(), 'lt-fork-'));

/** The kernel honours madvise(MADV_HUGEPAGE) and glibc (≥ 2.35) knows the tunable. */
function hugePagesAvailable(): string | undefined {
  const thp = '/sys/kernel/mm/transparent_hugepage/enabled';
  if (!existsSync(thp) || /\[never\]/.test(readFileSync(thp, 'utf8')))
    return 'transparent huge pages are off';
  // Node reports the C library it runs on (absent: not glibc, e.g. musl).
  const glibc = (process.report.getReport() as { header: { glibcVersionRuntime?: string } }).header
    .glibcVersionRuntime;
  const [major, minor] = (glibc ?? '0.0').split('.').map(Number);
  if (!(major > 2 || (major === 2 && minor >= 35))) return `glibc ${glibc ?? '(none)'} has no malloc.hugetlb`;
  return undefined;
}

test(
  'a forked worker runs with the tuned allocator and its big buffers sit in huge pages',
  { skip: hugePagesAvailable() },
  async () => {
    const worker = join(tmp, 'worker.mjs');
    writeFileSync(
      worker,
      `import { readFileSync } from 'node:fs';
const a = new Float32Array(64 << 20); // 256 MB, touched
a.fill(1);
const huge = /AnonHugePages:\\s+(\\d+)/.exec(readFileSync('/proc/self/smaps_rollup', 'utf8'));
const { MALLOC_MMAP_MAX_, MALLOC_TRIM_THRESHOLD_, GLIBC_TUNABLES } = process.env;
process.send({ hugeKb: Number(huge?.[1] ?? 0), MALLOC_MMAP_MAX_, MALLOC_TRIM_THRESHOLD_, GLIBC_TUNABLES, sum: a[12345] }, () => process.exit(0));
`,
    );
    const child = forkWorker(worker);
    const report = await new Promise<Record<string, unknown>>((done, fail) => {
      child.once('message', (m) => done(m as Record<string, unknown>));
      child.once('exit', (code) => fail(new Error(`worker exited ${code} without a report`)));
    });
    assert.equal(report.MALLOC_MMAP_MAX_, '0');
    assert.equal(report.MALLOC_TRIM_THRESHOLD_, '68719476736');
    assert.match(String(report.GLIBC_TUNABLES), /glibc\.malloc\.hugetlb=1/);
    // Most of the 256 MB in 2 MiB pages (without the tunable: 0 on a madvise-only kernel).
    assert.ok(Number(report.hugeKb) >= 128 * 1024, `AnonHugePages ${report.hugeKb} kB`);
  },
);

test("a user's own glibc tunables are kept beside the huge pages, and their own hugetlb wins", () => {
  assert.equal(withHugePages(undefined), 'glibc.malloc.hugetlb=1');
  assert.equal(withHugePages(''), 'glibc.malloc.hugetlb=1');
  assert.equal(
    withHugePages('glibc.malloc.tcache_count=0'),
    'glibc.malloc.tcache_count=0:glibc.malloc.hugetlb=1',
  );
  assert.equal(withHugePages('glibc.malloc.hugetlb=0'), 'glibc.malloc.hugetlb=0');
});

test('an environment holds the worker settings only when it has every one of them', () => {
  const tuned = { MALLOC_MMAP_MAX_: '0', MALLOC_TRIM_THRESHOLD_: '68719476736' };
  assert.equal(hasWorkerEnv({ ...tuned, GLIBC_TUNABLES: 'glibc.malloc.hugetlb=1' }), true);
  assert.equal(
    hasWorkerEnv({ ...tuned, GLIBC_TUNABLES: 'glibc.malloc.hugetlb=0' }),
    true,
    'the user’s choice',
  );
  assert.equal(hasWorkerEnv(tuned), false, 'no huge pages asked for');
  assert.equal(hasWorkerEnv({ MALLOC_MMAP_MAX_: '0', GLIBC_TUNABLES: 'glibc.malloc.hugetlb=1' }), false);
  assert.equal(hasWorkerEnv({}), false);
});
