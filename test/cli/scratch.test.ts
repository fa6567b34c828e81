// Training from scratch (`train --init random`): fresh weights by the family's rules in <run>/init/,
// the template's tokenizer beside them, and a resume that continues from the same start.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { cli } from './capture';
import { TINY_LLAMA, writeLlamaModel } from '../../fixtures/tinyLlama';
import { SafetensorsReader } from '../../src/engine/formats/safetensors';

const tmp = mkdtempSync(join(tmpdir(), 'lt-scratch-'));
const template = join(tmp, 'template');
const data = join(tmp, 'code.txt');
writeLlamaModel(template, TINY_LLAMA, 7, { modelType: 'qwen2' });
writeFileSync(data, 'export function add(a, b) {\n  return a + b;\n}\n'.repeat(40));

const common = ['--model', template, '--data', data, '--mode', 'full', '--init', 'random'];
const flags = ['--steps', '4', '--batch-tokens', '64', '--seq-len', '32', '--micro-batch-tokens', '64'];
const losses = (out: string[]) => out.filter((l) => l.startsWith('step ')).map((l) => l.split(/\s+/)[3]);

test('init random: fresh weights by the family rules, the template tokenizer, loss near ln(vocab)', async () => {
  const out = join(tmp, 'run');
  const r = await cli('train', ...common, ...flags, '--eval-every', '0', '--out', out);
  assert.equal(r.code, 0, r.err.join('\n'));
  const init = join(out, 'init');
  for (const f of ['config.json', 'model.safetensors', 'tokenizer.json', 'tokenizer_config.json'])
    assert.ok(existsSync(join(init, f)), f);
  assert.deepEqual(
    JSON.parse(readFileSync(join(init, 'config.json'), 'utf8')),
    JSON.parse(readFileSync(join(template, 'config.json'), 'utf8')),
  );
  const fresh = SafetensorsReader.open(join(init, 'model.safetensors'));
  const old = SafetensorsReader.open(join(template, 'model.safetensors'));
  const q = fresh.readFloat32('model.layers.0.self_attn.q_proj.weight');
  assert.notDeepEqual(q, old.readFloat32('model.layers.0.self_attn.q_proj.weight'));
  const std = Math.sqrt(q.reduce((a, v) => a + v * v, 0) / q.length);
  assert.ok(Math.abs(std - 0.02) < 0.002, `q_proj std ${std} (initializer_range 0.02)`);
  assert.ok(
    fresh.readFloat32('model.norm.weight').every((v) => v === 1),
    'RMSNorm weights start at 1',
  );
  assert.ok(
    fresh.readFloat32('model.layers.0.self_attn.q_proj.bias').every((v) => v === 0),
    'biases start at 0',
  );
  const vocab = JSON.parse(readFileSync(join(init, 'config.json'), 'utf8')).vocab_size;
  const first = Number(losses(r.out)[0]);
  assert.ok(
    Math.abs(first - Math.log(vocab)) < 0.5,
    `first loss ${first} vs ln(${vocab}) = ${Math.log(vocab)}`,
  );
});

test('init random: a resumed run continues from the same start with identical losses', async () => {
  const whole = await cli('train', ...common, ...flags, '--eval-every', '0', '--out', join(tmp, 'whole'));
  const part = join(tmp, 'part');
  const half = ['--steps', '4', '--batch-tokens', '64', '--seq-len', '32', '--micro-batch-tokens', '64'];
  const first = await cli(
    'train',
    ...common,
    ...half,
    '--eval-every',
    '0',
    '--checkpoint-every',
    '2',
    '--out',
    part,
  );
  assert.equal(first.code, 0, first.err.join('\n'));
  // Throw away the end of the run: keep the step-2 checkpoint only, as after an interruption.
  for (const c of readdirSync(join(part, 'checkpoints')))
    if (!c.endsWith('000002')) rmSync(join(part, 'checkpoints', c), { recursive: true });
  const resumed = await cli('train', ...common, ...half, '--eval-every', '0', '--resume', part);
  assert.equal(resumed.code, 0, resumed.err.join('\n'));
  assert.deepEqual(losses(resumed.out), losses(whole.out).slice(2));
});

test('init random wants full training; --config without it is refused', async () => {
  const lora = await cli(
    'train',
    '--model',
    template,
    '--data',
    data,
    '--init',
    'random',
    '--out',
    join(tmp, 'x'),
  );
  assert.equal(lora.code, 2);
  assert.match(lora.err.at(-1) ?? '', /--init random trains every weight: use --mode full/);
  const cfg = await cli(
    'train',
    '--model',
    template,
    '--data',
    data,
    '--config',
    join(template, 'config.json'),
    '--out',
    join(tmp, 'y'),
  );
  assert.equal(cfg.code, 2);
  assert.match(cfg.err.at(-1) ?? '', /--config sets the architecture of a new model: use --init random/);
  const bad = await cli('train', ...common.slice(0, -1), 'zeros', '--out', join(tmp, 'z'));
  assert.match(bad.err.at(-1) ?? '', /--init zeros: use "pretrained"/);
});
