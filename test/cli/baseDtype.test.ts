// `train --base-dtype int8`: LoRA on an int8 frozen base from the command line — reported in the
// --json start event, refused in one line where it cannot apply.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { cli } from './capture';
import { TINY_LLAMA, writeLlamaModel } from '../../fixtures/tinyLlama';

const tmp = mkdtempSync(join(tmpdir(), 'lt-base-dtype-'));
const model = join(tmp, 'model');
const data = join(tmp, 'code.txt');
writeLlamaModel(model, TINY_LLAMA, 7, { modelType: 'qwen2' });
writeFileSync(data, 'export function add(a, b) {\n  return a + b;\n}\n'.repeat(40));
const run = ['--model', model, '--data', data, '--steps', '2', '--batch-tokens', '64', '--seq-len', '32'];

test('--base-dtype int8 trains LoRA and the --json start event reports it', async () => {
  const out = join(tmp, 'run');
  const r = await cli('train', ...run, '--base-dtype', 'int8', '--eval-every', '0', '--json', '--out', out);
  assert.equal(r.code, 0, r.err.join('\n'));
  const events = r.out.map((l) => JSON.parse(l) as { type: string; baseDtype?: string });
  assert.equal(events.find((e) => e.type === 'start')?.baseDtype, 'int8');
  assert.equal(events.filter((e) => e.type === 'step').length, 2);
  assert.ok(existsSync(join(out, 'adapter', 'adapter_model.safetensors')));
});

test('--base-dtype int8 with --mode full, or an unknown dtype: one line naming the flags, exit 2', async () => {
  const full = await cli(
    'train',
    ...run,
    '--mode',
    'full',
    '--base-dtype',
    'int8',
    '--out',
    join(tmp, 'full'),
  );
  assert.equal(full.code, 2);
  assert.equal(full.err.length, 1, full.err.join('\n'));
  assert.match(full.err[0], /--base-dtype.*--mode|--mode.*--base-dtype/);
  const bad = await cli('train', ...run, '--base-dtype', 'int4', '--out', join(tmp, 'bad'));
  assert.equal(bad.code, 2);
  assert.equal(bad.err.length, 1, bad.err.join('\n'));
  assert.match(bad.err[0], /--base-dtype must be fp32 or int8 \(got "int4"\)/);
});
