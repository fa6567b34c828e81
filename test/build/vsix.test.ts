// `npm start` installs the extension as a VSIX (scripts/vscode/package.mjs, @vscode/vsce): the
// package must build from this tree (a README link vsce cannot rewrite once broke it) and hold the
// bundles, this platform's ONNX Runtime and nothing of the tests, sources or shipped models.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';

const tmp = mkdtempSync(join(tmpdir(), 'localtune-vsix-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

test('the linux-x64 VSIX packages, with the bundles and without tests, sources or models', async () => {
  const { packageVsix } = await import('../../scripts/vscode/package.mjs');
  const out = packageVsix({ target: 'linux-x64', out: join(tmp, 'localtune.vsix'), force: true });
  const names = new Set(
    execFileSync('unzip', ['-Z1', out], { encoding: 'utf8', maxBuffer: 1 << 26 })
      .split('\n')
      .filter(Boolean),
  );
  for (const f of [
    'extension/package.json',
    'extension/readme.md',
    'extension/dist/extension.js',
    'extension/dist/cli.js',
  ])
    assert.ok(names.has(f), `${f} in the VSIX`);
  const has = (re: RegExp) => [...names].filter((n) => re.test(n));
  assert.ok(
    has(/^extension\/node_modules\/onnxruntime-node\/bin\/napi-v\d+\/linux\/x64\//).length > 0,
    'linux-x64 ORT',
  );
  assert.deepEqual(has(/^extension\/node_modules\/onnxruntime-node\/bin\/napi-v\d+\/(darwin|win32)\//), []);
  assert.deepEqual(has(/^extension\/(src|test|models|fixtures|bench|dist\/test)\//), []);
  assert.deepEqual(has(/\.map$/), []);
  assert.ok(statSync(out).size < 200e6, `${(statSync(out).size / 1e6).toFixed(1)} MB`);
});
