// `npm test`'s end-to-end part: runs test/e2e/runTests.mjs (the standard @vscode/test-electron
// runTests call, here against code-server + headless Chromium) and reports every test that ran in
// the extension host as a node:test subtest, parsed from the `[e2e-result] {json}` lines the in-host
// reporter prints. The run must report every test recorded in test/e2e/expected-tests.json (those
// LOCALTUNE_E2E_GREP picks) and no other: a suite that stops registering its tests fails it.
// The first run sets up Node 24, code-server and Chromium (~5 min, cached after).
// The full log goes to test-artifacts/e2e.log, screenshots to test-artifacts/screenshots/.
//
// LOCALTUNE_E2E=0 skips it; LOCALTUNE_E2E_GREP picks in-host tests by title.
import { spawn } from 'node:child_process';
import { createWriteStream, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { compareWithExpected, EXPECTED_FILE, readExpected } from './expectedTests';
import { RESULT_MARKER, type ResultLine } from './suite/result';

const root = join(__dirname, '..', '..');
const artifacts = join(root, 'test-artifacts');
const rank: Record<ResultLine['state'], number> = { pending: 0, passed: 1, failed: 2 };

/** Runs runTests.mjs; resolves with its exit code and the result lines it printed, deduplicated. */
function runE2E(
  onLine: (line: string) => void,
): Promise<{ code: number; results: ResultLine[]; tail: string }> {
  mkdirSync(artifacts, { recursive: true });
  const log = createWriteStream(join(artifacts, 'e2e.log'));
  // scripts/test.mjs (npm test) has just built dist/; run alone, runTests.mjs builds it first.
  const built = process.env.LOCALTUNE_BUILT === '1';
  const child = spawn(
    process.execPath,
    [join(root, 'test', 'e2e', 'runTests.mjs'), ...(built ? ['--no-build'] : [])],
    {
      cwd: root,
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  const results = new Map<string, ResultLine>();
  let tail = '';
  let pending = '';
  const onData = (chunk: Buffer) => {
    log.write(chunk);
    const text = pending + chunk.toString('utf8');
    const lines = text.split('\n');
    pending = lines.pop() ?? '';
    for (const line of lines) {
      tail = (tail + line + '\n').slice(-6000);
      const at = line.indexOf(RESULT_MARKER);
      if (at >= 0) {
        try {
          const result = JSON.parse(line.slice(at + RESULT_MARKER.length)) as ResultLine;
          // A window reload runs the suites again (zz-reload.e2e.ts): keep one result per test,
          // a failure over a pass over a skip.
          const key = result.titlePath.join('\u0000');
          const seen = results.get(key);
          if (!seen || rank[result.state] >= rank[seen.state]) results.set(key, result);
        } catch {
          // a garbled line is reported by the missing test, with the log
        }
      }
      onLine(line);
    }
  };
  child.stdout.on('data', onData);
  child.stderr.on('data', onData);
  return new Promise((resolve) => {
    child.on('close', (code, signal) => {
      if (pending) onData(Buffer.from('\n'));
      log.end();
      resolve({ code: code ?? (signal ? 128 : 1), results: [...results.values()], tail });
    });
  });
}

test(
  'e2e: the extension in a real VS Code (code-server + headless Chromium)',
  { skip: process.env.LOCALTUNE_E2E === '0' ? 'LOCALTUNE_E2E=0' : false },
  async (t) => {
    const started = Date.now();
    const { code, results, tail } = await runE2E((line) => {
      // Progress worth seeing in the test log; everything is in test-artifacts/e2e.log.
      if (/^\[(vscode-env|code-server-exe|workspace)|^\[e2e\] /.test(line)) t.diagnostic(line);
    });
    t.diagnostic(
      `e2e run: exit ${code} in ${((Date.now() - started) / 1000).toFixed(1)} s; log: test-artifacts/e2e.log`,
    );

    for (const r of results) {
      const name = r.titlePath.join(' › ');
      if (r.state === 'pending') {
        await t.test(name, { skip: 'pending in the suite' }, () => {});
        continue;
      }
      await t.test(name, () => {
        if (r.state === 'failed') throw new Error(r.error ?? 'failed in the extension host');
      });
    }
    if (results.length === 0)
      throw new Error(`no e2e test reported a result (exit ${code}); log tail:\n${tail}`);
    const { missing, unexpected } = compareWithExpected(
      readExpected(),
      results.map((r) => r.titlePath),
      process.env.LOCALTUNE_E2E_GREP,
    );
    if (missing.length || unexpected.length)
      throw new Error(
        [
          missing.length
            ? `expected but not reported (a suite stopped registering them?):\n  ${missing.join('\n  ')}`
            : '',
          unexpected.length ? `reported but not in ${EXPECTED_FILE}:\n  ${unexpected.join('\n  ')}` : '',
        ]
          .filter(Boolean)
          .join('\n'),
      );
    if (code !== 0 && !results.some((r) => r.state === 'failed')) {
      throw new Error(`the e2e run exited with ${code} although no test failed; log tail:\n${tail}`);
    }
  },
);
