// The benchmark with and without workspace context, on real files and a real (tiny) model: each
// span gets the files its file imports and its folder's other held-out files; the same spans are
// asked both ways, and only the "with" prompts carry the other files' lines.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Completer } from '../../src/engine/complete/completer';
import { Decoder, type GenerateOptions } from '../../src/engine/generate/decoder';
import { loadModel } from '../../src/engine/models';
import { loadTokenizer } from '../../src/engine/tokenizer/tokenizer';
import { compareContext } from '../../src/eval/contextBenchmark';
import { maskSpans, spanRequest, withWorkspaceContext } from '../../src/eval/spans';
import { writeGpt2Model } from '../../fixtures/tinyModel';

test('with and without context: both figures from the same spans; the context holds the imported file and the folder’s others', async () => {
  const root = mkdtempSync(join(tmpdir(), 'lt-ctxbench-'));
  const files: Record<string, string> = {
    'src/shapes.ts': 'export function areaOfSquare(side: number) {\n  return side * side;\n}\n',
    'src/app.ts':
      "import { areaOfSquare } from './shapes';\n\nexport function total(sides: number[]) {\n  let sum = 0;\n  for (const s of sides) sum += areaOfSquare(s);\n  return sum;\n}\n",
    'src/other.ts': 'export const name = "other module";\nexport const size = 12;\n',
  };
  mkdirSync(join(root, 'src'));
  for (const [p, t] of Object.entries(files)) writeFileSync(join(root, p), t);
  // app.ts and other.ts held out; shapes.ts is a training file, reached through the import.
  const heldOut = ['src/app.ts', 'src/other.ts'].map((id) => ({ id, path: join(root, id) }));
  const spans = withWorkspaceContext(
    maskSpans(
      heldOut.map((f) => ({ id: f.id, text: files[f.id] })),
      { count: 6, seed: 1 },
    ),
    heldOut,
    (p) => readFileSync(p, 'utf8'),
  );
  const appSpan = spans.find((s) => s.file === 'src/app.ts')!;
  assert.deepEqual(
    appSpan.context?.map((c) => c.path),
    ['src/shapes.ts', 'src/other.ts'],
  );

  const dir = join(root, 'model');
  await writeGpt2Model(dir, { nLayer: 1, nHead: 2, nEmbd: 32, nPositions: 256 }, 2, { embeddingStd: 0.3 });
  const model = loadModel(dir);
  const decoder = await Decoder.fromModel(model, { threads: 1 });
  model.weights.close();
  const tokenizer = await loadTokenizer(dir);
  const completer = new Completer(decoder, tokenizer, { timeBudgetMs: 60_000 });
  const prompts: string[] = [];
  const generate = decoder.generate.bind(decoder);
  decoder.generate = (ids: readonly number[], o: GenerateOptions = {}) => {
    prompts.push(tokenizer.decode([...ids]));
    return generate(ids, o);
  };
  const figures = await compareContext(spans, async (span) => {
    const c = await completer.complete({ ...spanRequest(span), maxTokens: 4 });
    return { text: c.text, latencyMs: c.latencyMs };
  });
  assert.equal(figures.without.spans, spans.length);
  assert.equal(figures.with.spans, spans.length);
  assert.equal(figures.spansWithContext, spans.length);
  for (const f of [figures.without, figures.with]) assert.ok(f.exactMatch >= 0 && f.exactMatch <= 1);
  const half = prompts.length / 2;
  assert.ok(
    prompts.slice(0, half).every((p) => !p.includes('// Path:')),
    'no context in the first run',
  );
  assert.ok(
    prompts.slice(half).some((p) => p.includes('// Path: src/shapes.ts\n// export function areaOfSquare')),
    'the second run shows the imported file',
  );
});
