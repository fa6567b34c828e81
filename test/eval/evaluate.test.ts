import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { readManifest } from '../../src/data/datasetFiles';
import { splitByFile } from '../../src/data/split';
import { OptionError } from '../../src/engine/errors';
import { writeGpt2Model } from '../../fixtures/tinyModel';
import { benchmarkSpans, evaluate } from '../../src/eval/evaluate';
import type { EvalReport } from '../../src/eval/report';
import { evalFixture, EVAL_SHAPE } from './fixture';

let f: Awaited<ReturnType<typeof evalFixture>>;
let report: EvalReport;

before(async () => {
  f = await evalFixture();
  report = await evaluate({
    modelDir: f.modelDir,
    adapterDir: f.adapterDir,
    datasetDir: f.datasetDir,
    seed: 5,
    spans: 60,
  });
});

test('the tuned model completes held-out spans better than the base, and has the lower loss', () => {
  const b = report.base;
  const t = report.tuned!;
  assert.ok(b.completion && t.completion);
  assert.equal(t.completion.spans, 60);
  // Several exact matches, not one lucky span (5 of 60 when this was written; the base has none).
  assert.ok(t.completion.exactMatch * 60 >= 3, `tuned exact matches: ${t.completion.exactMatch * 60}`);
  assert.ok(
    t.completion.exactMatch > b.completion.exactMatch,
    `exact match tuned ${t.completion.exactMatch} > base ${b.completion.exactMatch}`,
  );
  assert.ok(t.completion.editSimilarity > b.completion.editSimilarity + 0.2);
  assert.ok(t.completion.acceptedChars > b.completion.acceptedChars);
  assert.ok(t.validationLoss! < b.validationLoss! - 5, `loss ${t.validationLoss} vs ${b.validationLoss}`);
  assert.ok(Math.abs(t.perplexity! - Math.exp(t.validationLoss!)) < 1e-6 * t.perplexity!);
  assert.ok(t.completion.latencyMs.p50 > 0);
  assert.deepEqual(Object.keys(t.completion.byKind).sort(), ['block', 'line', 'line-rest']);
  assert.ok(report.samples.length > 0 && report.samples.length <= 8);
  for (const s of report.samples) assert.equal(typeof s.tuned, 'string');
  assert.match(report.dataSummary, /held-out files/);
});

test('masked spans come only from held-out files, never from training files', () => {
  const m = readManifest(join(f.datasetDir, 'manifest.json'));
  const heldOut = new Set(m.heldOut!.files.map((x) => x.id));
  const all = readdirSync(join(f.workspace, 'src')).map((n) => `src/${n}`);
  // The manifest's list is the split's validation side: the seeded draw, topped up to the hold-out
  // floor (at least 3 files) in the draw's order.
  for (const id of splitByFile(all, m.split.valFraction, m.seed))
    assert.ok(heldOut.has(id), `${id} drawn, so held out`);
  assert.ok(
    heldOut.size >= 3 && heldOut.size < all.length,
    `${heldOut.size} of ${all.length} files held out`,
  );
  const trainFiles = all.filter((id) => !heldOut.has(id));
  assert.equal(trainFiles.length, m.files.train);
  const spans = benchmarkSpans(m, f.datasetDir, { count: 60, seed: 9 });
  assert.ok(spans.length >= 30);
  for (const s of spans) {
    assert.ok(heldOut.has(s.file), `${s.file} is held out`);
    assert.ok(!trainFiles.includes(s.file));
    assert.equal(s.prefix + s.expected + s.suffix, readFileSync(join(f.workspace, s.file), 'utf8'));
  }
  for (const s of report.samples) assert.ok(heldOut.has(s.file));
});

test('the same seed gives the same spans and the same answers', async () => {
  const m = readManifest(join(f.datasetDir, 'manifest.json'));
  const a = benchmarkSpans(m, f.datasetDir, { count: 30, seed: 5 });
  assert.deepEqual(benchmarkSpans(m, f.datasetDir, { count: 30, seed: 5 }), a);
  assert.notDeepEqual(benchmarkSpans(m, f.datasetDir, { count: 30, seed: 6 }), a);
  const again = await evaluate({
    modelDir: f.modelDir,
    adapterDir: f.adapterDir,
    datasetDir: f.datasetDir,
    seed: 5,
    spans: 60,
  });
  const strip = (r: EvalReport) => {
    const side = (x: EvalReport['base']) => ({
      ...x,
      completion: x.completion && { ...x.completion, latencyMs: 0 },
    });
    return { base: side(r.base), tuned: side(r.tuned!), samples: r.samples };
  };
  assert.deepEqual(strip(again), strip(report));
});

test('a dataset built for another tokenizer is refused in one clear line', async () => {
  const other = join(f.root, 'other');
  await writeGpt2Model(other, EVAL_SHAPE, 1, {
    extraSpecialTokens: ['<fim_prefix>', '<fim_middle>', '<fim_suffix>'],
  });
  await assert.rejects(
    evaluate({ modelDir: other, datasetDir: f.datasetDir }),
    (e: Error) =>
      e instanceof OptionError &&
      /built for another tokenizer.*with modelDir /.test(e.message) &&
      e.options.join() === 'modelDir' &&
      !e.message.includes('\n'),
  );
});

test('an empty validation split is refused in one clear line', async () => {
  const path = join(f.datasetDir, 'manifest.json');
  const text = readFileSync(path, 'utf8');
  const m = JSON.parse(text);
  const empty = join(f.root, 'empty-ds');
  const { cpSync } = await import('node:fs');
  cpSync(f.datasetDir, empty, { recursive: true });
  writeFileSync(
    join(empty, 'manifest.json'),
    JSON.stringify({
      ...m,
      tokens: { ...m.tokens, validation: 0 },
      files: { ...m.files, validation: 0 },
      heldOut: { files: [] },
    }),
  );
  writeFileSync(join(empty, 'validation.ids.u32'), '');
  writeFileSync(join(empty, 'validation.weights.u8'), '');
  await assert.rejects(
    evaluate({ modelDir: f.modelDir, datasetDir: empty }),
    (e: Error) =>
      e instanceof OptionError &&
      /validation split is empty.*valFraction/.test(e.message) &&
      e.options.join() === 'valFraction',
  );
});
