// A dataset's own options (dataset.json): the CSV columns chosen when CSV files were added are kept
// and checked like the other options; a rebuild from the file builds with them, and a change of
// columns rebuilds the rows (the columns are part of the build cache's key).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildDataset } from '../../src/data/build';
import {
  datasetOptionsProblem,
  readDatasetConfig,
  writeDatasetConfig,
  DEFAULT_DATASET_OPTIONS,
} from '../../src/data/datasetConfig';
import { writeChatModel } from '../../fixtures/tinyChat';
import { previewDataset } from '../../src/jobs/datasetSamples';

test('csvColumns in dataset.json: checked, kept, and built with', async () => {
  assert.equal(datasetOptionsProblem({ csvColumns: { prompt: 'Q', response: 'A' } }), undefined);
  for (const bad of [{ prompt: 3 }, { question: 'Q' }, 'Q,A', null])
    assert.equal(
      datasetOptionsProblem({ csvColumns: bad as never }),
      'csvColumns must be {"prompt", "response", "system"} column names',
      JSON.stringify(bad),
    );

  const tmp = mkdtempSync(join(tmpdir(), 'lt-dataset-config-'));
  const modelDir = join(tmp, 'model');
  writeChatModel(modelDir);
  const csv = join(tmp, 'tickets.csv');
  writeFileSync(
    csv,
    'Subject,Body,Fix\n' + Array.from({ length: 6 }, (_, i) => `s${i},b${i},f${i}\n`).join(''),
  );
  const dir = join(tmp, 'ds');
  writeDatasetConfig(tmp, {
    ...DEFAULT_DATASET_OPTIONS,
    sources: [csv],
    modelDir,
    csvColumns: { prompt: 'Body', response: 'Fix' },
  });
  const config = readDatasetConfig(tmp)!;
  assert.deepEqual(config.csvColumns, { prompt: 'Body', response: 'Fix' });
  const { sources, ...options } = config;
  const { manifest } = await buildDataset({ ...options, sources, outDir: dir });
  assert.equal(manifest.documents.train + manifest.documents.validation, 6);
  assert.deepEqual(manifest.csvColumns, { prompt: 'Body', response: 'Fix' });
  // Other columns, same folder: the build cache does not serve the rows read with the old ones.
  const users = async () =>
    (await previewDataset(dir, 6)).samples.map((x) => /user\n(\w+)/.exec(x.text)?.[1]);
  const before = await users();
  assert.ok(before.length >= 3 && before.every((u) => u?.startsWith('b')), JSON.stringify(before));
  await buildDataset({
    ...options,
    csvColumns: { prompt: 'Subject', response: 'Fix' },
    sources,
    outDir: dir,
  });
  const after = await users();
  assert.ok(after.length >= 3 && after.every((u) => u?.startsWith('s')), JSON.stringify(after));
  // The same file without the columns: its header has no usual names, and the error says so.
  await assert.rejects(
    buildDataset({ ...options, csvColumns: undefined, sources, outDir: join(tmp, 'ds2') }),
    /tickets\.csv: no prompt column \(looked for .*\); its columns are "Subject", "Body", "Fix"; choose one with promptColumn NAME/,
  );
});
