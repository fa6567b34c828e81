// Every model the README lists, as a tiny random model in the layout of the files the hub ships
// (fixtures/hubModels.ts: the recorded config.json and tokenizer files, the real tensor names,
// prefix, buffers and dtype), through the five checks: the folder check and load; scores against
// the PyTorch transcription of transformers (hf_reference.py) on the ids transformers' tokenizer
// would give (BOS included where the config asks for it); a LoRA training step; the adapter it
// saves, merged by PEFT's own definition in the reference, scoring as ours does with it; the export
// loaded by transformers.js scoring as the reference does; a completion from the completion worker.
// The PyTorch checks need Debian's python3-torch: skipped with a loud line locally, failed in CI.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HUB_MODELS, recordedDir, writeHubModel } from '../../../fixtures/hubModels';
import { loadAdapter } from '../../../src/engine/formats/peft';
import { exportModel } from '../../../src/engine/generate/export';
import { loadModel, type LoadedModel } from '../../../src/engine/models';
import { checkModelFolder } from '../../../src/engine/models/check';
import { loadTokenizer, type Tokenizer } from '../../../src/engine/tokenizer/tokenizer';
import { scoreIds } from '../../../src/engine/train/score';
import { train } from '../../../src/engine/train/trainer';
import { CompletionClient } from '../../../src/jobs/completionClient';
import { shortRun } from './oneStep';
import { logprobAt, maxAbsDiff, transformersJs } from '../generate/fixtures';
import { PYTHON, TORCH_ENV, torchSkip } from '../../helpers/torchReference';

const noTorch = torchSkip();
const REFERENCE = join(__dirname, '../models/hf_reference.py');
const WORKER = join(__dirname, '../../../src/jobs/workers/complete.ts');
const TOLERANCE = 1e-4;

const CODE = 'def add(a, b):\n    return a + b\n\nclass Point:\n    x: int = 0\n';

/** The reference's log-probabilities for `ids`, without and with the adapter merged. */
function reference(dir: string, ids: number[], adapterDir: string): { base: number[]; adapter: number[] } {
  const out = execFileSync(PYTHON, [REFERENCE, dir, JSON.stringify(ids), adapterDir], { env: TORCH_ENV });
  return JSON.parse(out.toString()) as { base: number[]; adapter: number[] };
}

/** The ids transformers' tokenizer gives for CODE: its BOS (when the config asks) and the text's. */
function idsOf(tokenizer: Tokenizer): number[] {
  return [...tokenizer.prefixIds, ...tokenizer.encode(CODE)];
}

const readJson = (path: string) => JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;

for (const m of HUB_MODELS) {
  test(`${m.id} in its hub layout: load, a training step, reference scores, PEFT adapter, export, completion`, async (t) => {
    const tmp = mkdtempSync(join(tmpdir(), 'lt-hub-'));
    const dir = join(tmp, m.id.split('/')[1]);
    writeHubModel(dir, m, 3);
    let model: LoadedModel;
    let tokenizer: Tokenizer;
    let ids: number[];
    const run = join(tmp, 'run');
    // The reference's log-probabilities without and with the trained adapter, in one PyTorch run.
    let ref: { base: number[]; adapter: number[] } | undefined;
    const referenceScores = () => (ref ??= reference(dir, ids, join(run, 'adapter')));

    await t.test('the folder check passes and the model loads with the real config', async () => {
      const check = checkModelFolder(dir);
      assert.equal(check.prefixed, m.prefixed);
      assert.ok(check.tensors >= 20, `${check.tensors} tensors`);
      const recorded = readJson(join(recordedDir(m.id), 'config.json'));
      const written = readJson(join(dir, 'config.json'));
      for (const [k, v] of Object.entries(recorded))
        if (!(k in m.tiny)) assert.deepEqual(written[k], v, `config.json "${k}" is the real file's`);
      model = loadModel(dir);
      tokenizer = await loadTokenizer(dir);
      ids = idsOf(tokenizer);
      assert.ok(ids.length > 12);
    });

    await t.test('a LoRA training step runs and writes a PEFT adapter', async () => {
      const done = await train(
        shortRun(model, { baseModelName: m.id, ids, mode: 'lora', steps: 2, lr: 5e-2, outDir: run }),
      );
      assert.equal(done.finalDir, join(run, 'adapter'));
      const adapter = loadAdapter(done.finalDir);
      assert.equal(adapter.baseModel, m.id);
      for (const key of adapter.values.keys())
        assert.match(key, m.layout === 'llama' ? /^model\.layers\.\d+\./ : /^transformer\.h\.\d+\./);
    });

    await t.test('scores match the PyTorch reference', { skip: noTorch }, async () => {
      const ours = await scoreIds(model, ids, { threads: 1 });
      const { base } = referenceScores();
      assert.ok(maxAbsDiff(ours, base) < TOLERANCE, `max |ours − reference| = ${maxAbsDiff(ours, base)}`);
    });

    await t.test(
      'the adapter, merged as PEFT defines it, scores in PyTorch as ours does',
      { skip: noTorch },
      async () => {
        const adapter = loadAdapter(join(run, 'adapter'));
        const ours = await scoreIds(model, ids, { adapter, threads: 1 });
        const { base, adapter: tuned } = referenceScores();
        assert.ok(maxAbsDiff(ours, tuned) < TOLERANCE, `max |ours − reference| = ${maxAbsDiff(ours, tuned)}`);
        assert.ok(maxAbsDiff(tuned, base) > 1e-3, 'the trained adapter changes the scores');
      },
    );

    await t.test(
      'the export, loaded by transformers.js, scores as the PyTorch reference',
      { skip: noTorch },
      async () => {
        const out = join(tmp, 'export');
        await exportModel({ modelDir: dir, adapterDir: join(run, 'adapter'), outDir: out, dtype: 'fp32' });
        const tjs = await transformersJs(out);
        const logits = await tjs.logits(ids);
        await tjs.dispose();
        const V = logits.length / ids.length;
        const fromTjs = ids.slice(1).map((id, i) => logprobAt(logits, V, i, id));
        const tuned = referenceScores().adapter;
        assert.ok(
          maxAbsDiff(fromTjs, tuned) < TOLERANCE,
          `max |transformers.js − reference| = ${maxAbsDiff(fromTjs, tuned)}`,
        );
      },
    );

    await t.test('the completion worker completes with it', async () => {
      const client = await CompletionClient.start({
        workerPath: WORKER,
        model: { modelDir: dir },
        dtype: 'fp32',
        env: { OMP_NUM_THREADS: '1' },
      });
      try {
        const result = await client.complete({
          prefix: CODE,
          suffix: '\nprint(add(1, 2))\n',
          languageId: 'python',
          multiline: 'multi',
          maxTokens: 4,
          timeBudgetMs: 60_000,
        });
        assert.ok(result, 'a result, not a failure');
        assert.equal(result.model, m.id.split('/')[1]);
        assert.ok(result.promptTokens > 10, JSON.stringify(result));
      } finally {
        client.dispose();
      }
    });
    model!.weights.close();
  });
}
