// The Models view's size of a model folder: linked files (a hub cache's blobs) count, a linked
// folder does not (the starter's `onnx -> .`, which transformers.js needs, would loop forever).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describeModel } from '../../src/vscode/modelCatalog';

test('folder size: linked blobs counted once each, a folder linked to itself not at all', () => {
  const root = mkdtempSync(join(tmpdir(), 'lt-catalog-'));
  const blobs = join(root, 'blobs');
  const dir = join(root, 'model');
  mkdirSync(blobs);
  mkdirSync(join(dir, 'sub'), { recursive: true });
  writeFileSync(join(blobs, 'weights'), Buffer.alloc(1000));
  symlinkSync(join(blobs, 'weights'), join(dir, 'model.safetensors'));
  writeFileSync(join(dir, 'config.json'), '{"model_type":"llama"}');
  writeFileSync(join(dir, 'sub', 'extra.bin'), Buffer.alloc(100));
  symlinkSync('.', join(dir, 'onnx'));
  const entry = describeModel(dir, 'folder', 'model');
  assert.equal(entry.bytes, 1000 + '{"model_type":"llama"}'.length + 100);
});
