import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UserError } from '../../../src/engine/errors';
import { loadModel, SUPPORTED_MODEL_TYPES } from '../../../src/engine/models';

test('the registry maps gpt2, llama, qwen2 and gpt_bigcode', () => {
  assert.deepEqual([...SUPPORTED_MODEL_TYPES].sort(), ['gpt2', 'gpt_bigcode', 'llama', 'qwen2']);
});

test('an unknown model_type is a user error naming the file, the type and every supported type', () => {
  const dir = mkdtempSync(join(tmpdir(), 'lt-unknown-'));
  writeFileSync(join(dir, 'config.json'), JSON.stringify({ model_type: 'mamba', hidden_size: 8 }));
  assert.throws(
    () => loadModel(dir),
    (err: unknown) => {
      assert.ok(err instanceof UserError);
      assert.match(err.message, /config\.json: model_type "mamba" is not supported/);
      for (const type of ['gpt2', 'llama', 'qwen2', 'gpt_bigcode'])
        assert.ok(err.message.includes(type), type);
      return true;
    },
  );
});
