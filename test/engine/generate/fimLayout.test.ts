// A model folder says which FIM prompt layout it answers best (config.json `fim_layout`, which
// LocalTune's starter sets to "spm"); the decoder reports it and the completer builds that layout.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeGpt2Model } from '../../../fixtures/tinyModel';
import { Decoder, fimLayoutOf } from '../../../src/engine/generate/decoder';
import { loadModel } from '../../../src/engine/models';

test('fim_layout "spm" in config.json reaches the decoder; anything else, or nothing, is PSM', async () => {
  const dir = join(mkdtempSync(join(tmpdir(), 'lt-fim-layout-')), 'model');
  await writeGpt2Model(dir, { nLayer: 1, nHead: 2, nEmbd: 16, nPositions: 32 }, 1);
  const decoderLayout = async () => {
    const model = loadModel(dir);
    const d = await Decoder.fromModel(model);
    model.weights.close();
    return d.info.fimLayout;
  };
  assert.equal(await decoderLayout(), 'psm');
  const file = join(dir, 'config.json');
  const config = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
  writeFileSync(file, JSON.stringify({ ...config, fim_layout: 'spm' }));
  assert.equal(await decoderLayout(), 'spm');
  assert.equal(fimLayoutOf({ fim_layout: 'SPM' }), 'psm');
  assert.equal(fimLayoutOf({ fim_layout: 'psm' }), 'psm');
});
