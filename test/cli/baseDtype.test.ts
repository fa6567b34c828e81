// `train --base-dtype int8`: LoRA on an int8 frozen base from the command line — reported in the
// --json start event, the default for LoRA from 10M parameters, refused in one line where it cannot apply.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { cli } from './capture';
import { TINY_LLAMA, writeLlamaModel } from '../../fixtures/tinyLlama';
import { writeGpt2Model } from '../../fixtures/tinyModel';

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

test('without --base-dtype: int8 for LoRA from 10M parameters, float32 below and for full fine-tuning', async () => {
  const startOf = async (modelDir: string, name: string, ...extra: string[]) => {
    const args = [
      '--data',
      data,
      '--steps',
      '1',
      '--batch-tokens',
      '32',
      '--seq-len',
      '16',
      '--eval-every',
      '0',
    ];
    const r = await cli('train', '--model', modelDir, ...args, ...extra, '--json', '--out', join(tmp, name));
    assert.equal(r.code, 0, r.err.join('\n'));
    return r.out
      .map((l) => JSON.parse(l) as { type: string; baseDtype?: string })
      .find((e) => e.type === 'start');
  };
  // 1 layer at width 256 with GPT-2's vocabulary: 13.7M parameters, most of them the tied head.
  const mid = join(tmp, 'mid-model');
  await writeGpt2Model(mid, { nLayer: 1, nHead: 2, nEmbd: 256, nPositions: 64 }, 1);
  assert.equal((await startOf(mid, 'mid-lora'))?.baseDtype, 'int8');
  assert.equal((await startOf(mid, 'mid-asked', '--base-dtype', 'fp32'))?.baseDtype, 'fp32');
  assert.equal((await startOf(mid, 'mid-full', '--mode', 'full'))?.baseDtype ?? 'fp32', 'fp32');
  assert.equal((await startOf(model, 'small-lora'))?.baseDtype ?? 'fp32', 'fp32');
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
