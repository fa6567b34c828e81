import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runGenerateCommand } from '../../../src/cli/generate';
import { writeGpt2Model } from '../../../fixtures/tinyModel';
import { cli } from '../../cli/capture';

test('localtune export, then generate from the model folder and from the export: same tokens; text streams', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'lt-gen-cli-'));
  const modelDir = join(dir, 'model');
  // GPT-2's whole vocabulary (the prompt is real text), at a tiny width.
  await writeGpt2Model(modelDir, { nLayer: 1, nHead: 2, nEmbd: 16, nPositions: 32 }, 1, {
    embeddingStd: 0.3,
  });
  const outDir = join(dir, 'exported');
  const exp = await cli('export', '--model', modelDir, '--out', outDir, '--dtype', 'fp32');
  assert.equal(exp.code, 0, exp.err.join('\n'));
  assert.ok(existsSync(join(outDir, 'onnx', 'model.onnx')));

  const args = ['--prompt', 'Hello world', '--max-tokens', '8', '--json'];
  const fromModel = await cli('generate', '--model', modelDir, ...args);
  const fromExport = await cli('generate', '--model', outDir, ...args);
  assert.equal(fromModel.code, 0, fromModel.err.join('\n'));
  assert.equal(fromExport.code, 0, fromExport.err.join('\n'));
  const a = JSON.parse(fromModel.out[0]);
  const b = JSON.parse(fromExport.out[0]);
  assert.equal(a.ids.length, 8);
  assert.deepEqual(a.ids, b.ids);

  const streamed: string[] = [];
  const code = await runGenerateCommand(['--model', outDir, '--prompt', 'Hello world', '--max-tokens', '8'], {
    out: () => undefined,
    err: () => undefined,
    write: (t) => streamed.push(t),
  });
  assert.equal(code, 0);
  assert.ok(streamed.length > 1, 'text arrives in pieces');
  assert.equal(streamed.join(''), a.text + '\n');

  const bad = await cli('generate', '--model', modelDir, '--prompt', 'x', '--dtype', 'int4');
  assert.equal(bad.code, 2);
  assert.match(bad.err.at(-1)!, /--dtype must be fp32 or int8/);
  const exists = await cli('export', '--model', modelDir, '--out', outDir);
  assert.equal(exists.code, 2);
  assert.match(exists.err.at(-1)!, /already exists/);
});
