// Hand-off end to end: `localtune job export` → the simulated GPU engine trains on the exported
// JSONL with its own config (PyTorch, a few real AdamW steps) → `localtune job import` → the run
// evaluates, scores and completes like a local run; and our own CPU run on the same data gives an
// adapter that loads identically (names, shapes, config semantics).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { cli } from '../../cli/capture';
import { loadAdapter } from '../../../src/engine/formats/peft';
import { readManifest } from '../../../src/data/datasetFiles';
import { CompletionClient } from '../../../src/jobs/completionClient';
import { evaluationTarget } from '../../../src/jobs/runEvaluation';
import { readMetrics, runWeights, summarizeRun } from '../../../src/jobs/runs';
import { readJobFile } from '../../../src/jobs/handoff/jobFile';
import { runReference, torchSkip } from '../../helpers/torchReference';
import { exportedJob, handoffFixture, RUN_FLAGS, trainElsewhere } from './fixture';

const REFERENCE = join(__dirname, '../../engine/models/hf_reference.py');
const COMPLETION_WORKER = join(__dirname, '../../../src/jobs/workers/complete.ts');

test(
  'export → simulated engine → import → evaluate → complete; our CPU run loads identically',
  { skip: torchSkip() },
  async () => {
    const f = await handoffFixture();
    const jobDir = await exportedJob(f, 'axolotl', RUN_FLAGS);
    const job = readJobFile(jobDir);
    // Every document comes back as the same token ids when the engine encodes its rows.
    assert.ok(job.roundTrip.documents > 20);
    assert.equal(job.roundTrip.identical, job.roundTrip.documents);
    const manifest = readManifest(join(f.datasetDir, 'manifest.json'));
    assert.ok(manifest.fim.documents > 0, 'the dataset has FIM documents to carry over');

    // The engine reads the job's own files, as Axolotl would.
    const splits = ['train', 'validation'].map((s) =>
      ['', '.segments'].map((k) => `data/${s}${k}.jsonl`).filter((p) => existsSync(join(jobDir, p))),
    );
    const trained = trainElsewhere(jobDir, f.tokenizer, manifest.tokenizer.eosId, splits);
    assert.equal(trained.steps, 8);
    assert.ok(
      trained.last_loss < trained.first_loss,
      `engine loss ${trained.first_loss} → ${trained.last_loss}`,
    );

    const runDir = join(f.root, 'runs', 'imported');
    const imported = await cli('job', 'import', jobDir, '--out', runDir);
    assert.equal(imported.code, 0, imported.err.join('\n'));

    // The dashboard's view: a finished run, its loss history, its adapter, what it evaluates with.
    const summary = summarizeRun(runDir);
    assert.equal(summary.status, 'finished');
    assert.equal(summary.step, 8);
    const engineState = JSON.parse(
      readFileSync(join(jobDir, 'output', 'checkpoint-8', 'trainer_state.json'), 'utf8'),
    );
    const engineLosses = engineState.log_history
      .filter((e: { loss?: number }) => e.loss !== undefined)
      .map((e: { loss: number }) => e.loss);
    const metrics = readMetrics(runDir);
    assert.deepEqual(
      metrics.filter((e) => e.type === 'step').map((e) => (e.type === 'step' ? e.loss : 0)),
      engineLosses,
    );
    assert.equal(metrics.filter((e) => e.type === 'eval').length, 2);
    const target = evaluationTarget(runDir);
    assert.ok(typeof target !== 'string', String(target));
    assert.equal(target.adapterDir, join(runDir, 'adapter'));
    assert.equal(target.datasetDir, f.datasetDir);
    assert.equal(runWeights(runDir)[0].kind, 'final');

    // Our engine applies the imported adapter exactly as PyTorch merges it (PEFT's formula).
    const ids = f.tokenizer.encode('export class Order3Store {\n  private items: Order3[] = [];');
    const scored = await cli(
      'score',
      '--model',
      f.modelDir,
      '--adapter',
      target.adapterDir,
      '--ids',
      ids.join(','),
      '--json',
    );
    assert.equal(scored.code, 0, scored.err.join('\n'));
    const ours = (JSON.parse(scored.out[0]) as { logprobs: number[] }).logprobs;
    const ref = runReference<{ base: number[]; adapter: number[] }>(REFERENCE, [
      f.modelDir,
      JSON.stringify(ids),
      target.adapterDir,
    ]);
    const worst = Math.max(...ours.map((v, i) => Math.abs(v - ref.adapter[i])));
    const moved = Math.max(...ref.adapter.map((v, i) => Math.abs(v - ref.base[i])));
    assert.ok(worst < 1e-4, `our log-probs vs the PyTorch merge: max |Δ| ${worst}`);
    assert.ok(moved > 1e-2, `the adapter changes the model (max |Δ| vs base ${moved})`);

    // Evaluation base vs tuned on our held-out files: training elsewhere helped.
    const evaluated = await cli(
      'eval',
      '--model',
      f.modelDir,
      '--adapter',
      target.adapterDir,
      '--data',
      f.datasetDir,
      '--spans',
      '4',
      '--json',
    );
    assert.equal(evaluated.code, 0, evaluated.err.join('\n'));
    const report = JSON.parse(evaluated.out[0]);
    assert.ok(
      report.tuned.validationLoss < report.base.validationLoss,
      `held-out loss ${report.base.validationLoss} → ${report.tuned.validationLoss}`,
    );
    assert.ok(
      existsSync(join(target.adapterDir, 'eval.json')),
      'the report lies beside the adapter, where the dashboard reads it',
    );

    // Export: the merged model folder transformers.js loads, with the evaluation in its card.
    const exportDir = join(f.root, 'exported');
    const exportedModel = await cli(
      'export',
      '--model',
      f.modelDir,
      '--adapter',
      target.adapterDir,
      '--out',
      exportDir,
    );
    assert.equal(exportedModel.code, 0, exportedModel.err.join('\n'));
    assert.ok(existsSync(join(exportDir, 'onnx', 'model.onnx')));
    assert.match(
      readFileSync(join(exportDir, 'README.md'), 'utf8'),
      /\| validation loss \| [\d.]+ \(base model: [\d.]+\) \|/,
    );

    // Use for Completions: the completion worker serves the base with the imported adapter merged.
    const client = await CompletionClient.start({
      workerPath: COMPLETION_WORKER,
      model: { modelDir: f.modelDir, adapterDir: target.adapterDir },
      dtype: 'fp32',
      env: { OMP_NUM_THREADS: '1' },
    });
    try {
      const completion = await client.complete({
        prefix:
          'export class Cart2Store {\n  private items: Cart2[] = [];\n\n  add(item: Cart2): void {\n    ',
        suffix: '\n  }\n}\n',
        languageId: 'typescript',
        multiline: 'multi',
        maxTokens: 6,
        timeBudgetMs: 60_000,
      });
      assert.ok(completion, 'a completion, not a failure');
      assert.equal(completion.model, 'base + adapter');
      assert.ok(completion.promptTokens > 10, JSON.stringify(completion));
    } finally {
      client.dispose();
    }

    // Our CPU run of the same job: the two adapters load identically.
    const localRun = join(f.root, 'runs', 'local');
    const local = await cli(
      'train',
      '--model',
      f.modelDir,
      '--data',
      f.datasetDir,
      ...RUN_FLAGS,
      '--out',
      localRun,
    );
    assert.equal(local.code, 0, local.err.join('\n'));
    const mine = loadAdapter(join(localRun, 'adapter'));
    const theirs = loadAdapter(target.adapterDir);
    assert.deepEqual([...theirs.values.keys()].sort(), [...mine.values.keys()].sort());
    for (const [name, v] of mine.values) assert.deepEqual(theirs.values.get(name)?.shape, v.shape, name);
    assert.deepEqual(
      { ...theirs.settings, targets: [...theirs.settings.targets].sort() },
      { ...mine.settings, targets: [...mine.settings.targets].sort() },
    );
    const config = (dir: string) => {
      const c = JSON.parse(readFileSync(join(dir, 'adapter_config.json'), 'utf8'));
      return { ...c, target_modules: [...c.target_modules].sort() };
    };
    assert.deepEqual(config(target.adapterDir), config(join(localRun, 'adapter')));
  },
);
