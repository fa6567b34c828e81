// The Datasets view's out-of-date check runs in a worker thread: on a real dataset built from a real
// workspace it reports exactly the files added, removed and changed since the build, and while it
// walks a workspace of thousands of files the calling thread (the extension host's) keeps running —
// the same walk in the calling thread holds it for the whole time.
import assert from 'node:assert/strict';
import { appendFileSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { buildDataset } from '../../src/data/build';
import { DatasetChangesScan } from '../../src/vscode/datasetChangesScan';
import { readDatasetInfo, workspaceChanges } from '../../src/vscode/datasetInfo';
import { codeFile, gpt2Fixture, tempDir, writeTree } from '../data/helpers';

const scanner = new DatasetChangesScan();
after(() => scanner.dispose());

async function builtWorkspace() {
  const ws = tempDir('ws');
  writeTree(ws, {
    'src/keep.ts': codeFile(1),
    'src/edit.ts': codeFile(2),
    'src/gone.ts': codeFile(3),
    'lib/util.ts': codeFile(4),
  });
  const { modelDir, tokenizer } = await gpt2Fixture();
  const dataset = join(ws, '.localtune', 'datasets', 'ws');
  await buildDataset({
    sources: [ws],
    outDir: dataset,
    modelDir,
    tokenizer,
    fimRate: 0,
    exclude: ['.localtune/'],
  });
  return { ws, dataset };
}

test('the worker reports the files added, removed and changed since the build, nothing for a current dataset', async () => {
  const { ws, dataset } = await builtWorkspace();
  assert.deepEqual((await scanner.scan([dataset])).get(dataset), { added: [], removed: [], changed: [] });
  rmSync(join(ws, 'src/gone.ts'));
  appendFileSync(join(ws, 'src/edit.ts'), '\n// one more line\n');
  writeFileSync(join(ws, 'src/new.ts'), codeFile(5));
  const c = (await scanner.scan([dataset])).get(dataset)!;
  assert.deepEqual(c, {
    added: [join(ws, 'src/new.ts')],
    removed: [join(ws, 'src/gone.ts')],
    changed: [join(ws, 'src/edit.ts')],
  });
  // The same answer as the walk in this thread gives.
  assert.deepEqual(c, workspaceChanges(readDatasetInfo(dataset)));
  // A folder that is no dataset is left out, not a failure.
  const scanned = await scanner.scan([dataset, join(ws, 'src')]);
  assert.deepEqual([...scanned.keys()], [dataset]);
});

test('walking thousands of files in the worker leaves the calling thread free; in the thread it blocks', async (t) => {
  const { ws, dataset } = await builtWorkspace();
  const FILES = 4000;
  for (let d = 0; d < 40; d++) {
    mkdirSync(join(ws, 'many', `d${d}`), { recursive: true });
    for (let f = 0; f < FILES / 40; f++) writeFileSync(join(ws, 'many', `d${d}`, `f${f}.ts`), 'x');
  }
  await scanner.scan([dataset]); // the worker is started and warm: what follows is the walk alone
  let ticks = 0;
  const ticker = setInterval(() => ticks++, 1);
  try {
    const started = performance.now();
    const c = (await scanner.scan([dataset])).get(dataset)!;
    const inWorker = performance.now() - started;
    assert.equal(c.added.length, FILES);
    assert.ok(ticks > 0, `the calling thread ran ${ticks} timer ticks during the worker's walk`);
    const workerTicks = ticks;
    ticks = 0;
    const before = performance.now();
    workspaceChanges(readDatasetInfo(dataset));
    const inThread = performance.now() - before;
    assert.equal(ticks, 0, 'a walk in the calling thread lets no timer run');
    t.diagnostic(
      `${FILES} new files: ${inWorker.toFixed(0)} ms in the worker (${workerTicks} ticks of the caller meanwhile), ${inThread.toFixed(0)} ms in the thread`,
    );
  } finally {
    clearInterval(ticker);
  }
});
