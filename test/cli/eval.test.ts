import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cli } from './capture';
import type { EvalReport } from '../../src/eval/report';
import { writeGpt2Model } from '../../fixtures/tinyModel';
import { evalFixture, EVAL_SHAPE } from '../eval/fixture';

let f: Awaited<ReturnType<typeof evalFixture>>;
before(async () => {
  f = await evalFixture({ steps: 4, mode: 'lora', files: 20 });
});

test('eval --json reports base and tuned figures and leaves eval.json in the adapter folder', async () => {
  const r = await cli(
    'eval',
    '--model',
    f.modelDir,
    '--adapter',
    f.adapterDir!,
    '--data',
    f.datasetDir,
    '--spans',
    '6',
    '--json',
  );
  assert.equal(r.code, 0, r.err.join('\n'));
  assert.equal(r.out.length, 1);
  const report = JSON.parse(r.out[0]) as EvalReport;
  assert.equal(report.base.completion!.spans, 6);
  assert.equal(report.tuned!.completion!.spans, 6);
  assert.ok(report.base.validationLoss! > 0 && report.tuned!.perplexity! > 1);
  const saved = JSON.parse(readFileSync(join(f.adapterDir!, 'eval.json'), 'utf8')) as EvalReport;
  assert.deepEqual(saved.tuned, report.tuned);
});

test('eval prints a base/tuned table, and export puts the figures and data summary in the model card', async () => {
  const r = await cli(
    'eval',
    '--model',
    f.modelDir,
    '--adapter',
    f.adapterDir!,
    '--data',
    f.datasetDir,
    '--spans',
    '3',
  );
  assert.equal(r.code, 0, r.err.join('\n'));
  assert.match(r.out[0], /base\s+tuned/);
  assert.ok(r.out.some((l) => /^validation perplexity\s+\d/.test(l)));
  assert.ok(r.out.some((l) => /^completion exact match\s+\d+\.\d% of 3/.test(l)));
  const out = join(f.root, 'exported');
  const e = await cli('export', '--model', f.modelDir, '--adapter', f.adapterDir!, '--out', out);
  assert.equal(e.code, 0, e.err.join('\n'));
  const card = readFileSync(join(out, 'README.md'), 'utf8');
  assert.match(card, /\| validation perplexity \| [\d.]+ \(base model: [\d.]+\) \|/);
  assert.match(card, /\| completion exact match \|/);
  assert.match(card, /held-out files of dataset/);
  assert.match(card, /secrets in \d+ files replaced/);
  assert.match(card, /## Limits/);
});

test('bad inputs: missing --data, another tokenizer, an empty validation split: one line, exit 2', async () => {
  const noData = await cli('eval', '--model', f.modelDir);
  assert.equal(noData.code, 2);
  assert.match(noData.err[0], /eval needs --data/);

  const other = join(f.root, 'other-model');
  await writeGpt2Model(other, EVAL_SHAPE, 1, {
    extraSpecialTokens: ['<fim_prefix>', '<fim_middle>', '<fim_suffix>'],
  });
  const wrong = await cli('eval', '--model', other, '--data', f.datasetDir);
  assert.equal(wrong.code, 2);
  assert.equal(wrong.err.length, 1);
  assert.match(
    wrong.err[0],
    /^localtune: .*built for another tokenizer.*rebuild the dataset \(dataset build\) for this model with --model /,
  );

  const empty = join(f.root, 'empty');
  cpSync(f.datasetDir, empty, { recursive: true });
  const m = JSON.parse(readFileSync(join(empty, 'manifest.json'), 'utf8'));
  m.tokens.validation = 0;
  m.files.validation = 0;
  m.heldOut = { files: [] };
  writeFileSync(join(empty, 'manifest.json'), JSON.stringify(m));
  writeFileSync(join(empty, 'validation.ids.u32'), '');
  writeFileSync(join(empty, 'validation.weights.u8'), '');
  const e = await cli('eval', '--model', f.modelDir, '--data', empty);
  assert.equal(e.code, 2);
  assert.equal(e.err.length, 1);
  assert.match(e.err[0], /validation split is empty.*--val-fraction/);
  assert.ok(!existsSync(join(empty, 'eval.json')));
});
