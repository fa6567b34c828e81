// The demo workspace (`npm start`, the end-to-end tests) is a small project with its own idioms and
// one held-out file: a git repository whose newest commit adds src/orders.ts, and workspace
// settings that split by recency, so Build Dataset from Workspace holds out exactly that file.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { buildDataset } from '../../src/data/build';
import { readManifest } from '../../src/data/datasetFiles';

const root = join(__dirname, '..', '..');
const starter = join(root, 'models', 'starter');
const tmp = mkdtempSync(join(tmpdir(), 'localtune-demo-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

async function demoWorkspace(dir: string): Promise<string> {
  const { writeDemoWorkspace } = await import('../../scripts/vscode/workspace.mjs');
  return writeDemoWorkspace(dir, { modelDir: starter, randomWeights: false });
}

test('the demo workspace is a git repository whose newest commit is the held-out file', async () => {
  const { DEMO_HELD_OUT } = await import('../../scripts/vscode/workspace.mjs');
  const ws = await demoWorkspace(join(tmp, 'history'));
  const newest = execFileSync('git', ['log', '-1', '--name-only', '--format='], {
    cwd: ws,
    encoding: 'utf8',
  });
  assert.equal(newest.trim(), DEMO_HELD_OUT);
  const settings = JSON.parse(readFileSync(join(ws, '.vscode', 'settings.json'), 'utf8'));
  assert.equal(settings['localtune.datasets.split'], 'recency');
  assert.equal(settings['localtune.defaultModel'], starter);
  // The settings name this machine's model: git ignores them, so they are neither data nor "newest".
  assert.equal(execFileSync('git', ['status', '--porcelain'], { cwd: ws, encoding: 'utf8' }), '');
});

test('a recency split of the demo workspace holds out src/orders.ts alone, and its idioms are in training', async () => {
  const ws = await demoWorkspace(join(tmp, 'split'));
  const outDir = join(tmp, 'split-dataset');
  await buildDataset({
    sources: [ws],
    outDir,
    modelDir: starter,
    exclude: ['.localtune/'],
    split: 'recency',
  });
  const listing = readManifest(join(outDir, 'manifest.json')).listing!;
  const held = listing.filter((f) => f.split === 'validation').map((f) => f.id);
  assert.deepEqual(held, ['src/orders.ts']);
  const trained = listing.filter((f) => f.split === 'train').map((f) => f.id);
  for (const f of [
    'src/result.ts',
    'src/events.ts',
    'src/ids.ts',
    'src/inventory.ts',
    'src/tax.ts',
    'src/payments.ts',
  ])
    assert.ok(trained.includes(f), `${f} trains`);
  // The held-out file is written in the project's idioms, so tuning on the rest can help it.
  const orders = readFileSync(join(ws, 'src', 'orders.ts'), 'utf8');
  for (const idiom of ['fail(', 'ok(', "newId('ord')", 'emitShopEvent(', 'taxFor(', 'reserve('])
    assert.ok(orders.includes(idiom), idiom);
});

test('a user edit in the demo workspace survives writing it again', async () => {
  const ws = await demoWorkspace(join(tmp, 'edits'));
  writeFileSync(join(ws, 'src', 'money.ts'), '// mine\n');
  await demoWorkspace(ws);
  assert.equal(readFileSync(join(ws, 'src', 'money.ts'), 'utf8'), '// mine\n');
});
