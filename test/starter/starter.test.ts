// The starter model as shipped in models/starter/: a standard Hugging Face folder within 48 MB, the
// folder check passes, fill-in-the-middle tokens are there, the card lists every package of the
// corpus with its version and licence, and the PyTorch reference (transformers' Llama transcribed)
// scores a held-out snippet as we do.
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { checkModelFolder } from '../../src/engine/models/check';
import { loadModel } from '../../src/engine/models';
import { findFimTokens } from '../../src/engine/tokenizer/fimTokens';
import { loadTokenizer } from '../../src/engine/tokenizer/tokenizer';
import { scoreIds } from '../../src/engine/train/score';
import { runReference, torchSkip } from '../helpers/torchReference';

const root = join(__dirname, '..', '..');
const dir = join(root, 'models', 'starter');
const packages = JSON.parse(readFileSync(join(root, 'scripts', 'starter', 'packages.json'), 'utf8')) as {
  name: string;
  version: string;
  license: string;
}[];

test('models/starter is a standard folder within 48 MB that the folder check accepts', () => {
  for (const f of [
    'config.json',
    'model.safetensors',
    'tokenizer.json',
    'tokenizer_config.json',
    'generation_config.json',
    'README.md',
  ])
    assert.ok(existsSync(join(dir, f)), f);
  const bytes = readdirSync(dir).reduce((a, f) => a + statSync(join(dir, f)).size, 0);
  assert.ok(bytes <= 48 * 1024 * 1024, `${(bytes / 2 ** 20).toFixed(1)} MiB`);
  const config = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8'));
  assert.equal(config.model_type, 'llama');
  assert.ok(config.num_key_value_heads < config.num_attention_heads, 'grouped-query attention');
  checkModelFolder(dir);
});

test('the starter tokenizer is GPT-2 plus StarCoder-style FIM tokens', async () => {
  const tokenizer = await loadTokenizer(dir);
  assert.deepEqual(findFimTokens(tokenizer), {
    style: 'starcoder',
    prefix: 50257,
    middle: 50258,
    suffix: 50259,
  });
  assert.deepEqual(tokenizer.encode('const x = 1;'), [9979, 2124, 796, 352, 26]);
});

test('the model card lists every corpus package with its version and licence', () => {
  const card = readFileSync(join(dir, 'README.md'), 'utf8');
  for (const p of packages)
    assert.match(
      card,
      new RegExp(
        `\\| ${p.name.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}( \\(held out\\))? \\| ${p.version} \\| ${p.license} \\|`,
      ),
      p.name,
    );
  assert.match(card, /held-out loss/);
});

test('the PyTorch reference scores a snippet as we do', { skip: torchSkip() }, async () => {
  const tokenizer = await loadTokenizer(dir);
  const ids = tokenizer.encode('export function add(a, b) {\n  return a + b;\n}\n');
  const ours = await scoreIds(loadModel(dir), ids);
  const reference = runReference<number[]>(join(root, 'test', 'engine', 'models', 'hf_reference.py'), [
    dir,
    JSON.stringify(ids),
  ]);
  const worst = Math.max(...ours.map((v, i) => Math.abs(v - reference[i])));
  assert.ok(worst < 1e-4, `largest log-probability difference ${worst}`);
});
