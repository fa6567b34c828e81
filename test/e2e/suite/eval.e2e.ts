/// <reference types="mocha" />
// Evaluate in a real extension host: a finished run is evaluated against its base in the worker;
// the dashboard's evaluation section shows base vs tuned, the samples open beside it, and the
// report lands in eval.json beside the adapter (where export finds it for the model card).
import * as assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import * as vscode from 'vscode';
import type { EvalReport } from '../../../src/eval/report';
import { summarizeRun } from '../../../src/jobs/runs';
import { screenshot, waitFor } from './helpers';
import { afterReload, configureFastTraining, localtune, startRun, waitForOutcome } from './localtuneHelpers';

if (!afterReload())
  describe('LocalTune evaluation', function () {
    it('Evaluate: base vs tuned in the dashboard, samples side by side, eval.json beside the adapter', async function () {
      this.timeout(300_000);
      const api = await localtune();
      await configureFastTraining();
      const dataset = await vscode.commands.executeCommand<string | undefined>('localtune.buildDataset');
      assert.ok(dataset, 'dataset built');
      const runDir = await startRun({
        model: process.env.LOCALTUNE_E2E_MODEL!,
        dataset,
        preset: 'lora',
        steps: 12,
        title: 'e2e evaluated run',
      });
      const outcome = await waitForOutcome(api, runDir);
      assert.equal(outcome.status, 'finished', JSON.stringify(outcome));
      await vscode.commands.executeCommand('localtune.showDashboard', runDir);

      const report = await vscode.commands.executeCommand<EvalReport | undefined>(
        'localtune.evaluate',
        runDir,
      );
      assert.ok(report?.tuned?.completion, `evaluated: ${JSON.stringify(report)?.slice(0, 300)}`);
      assert.ok(report.base.validationLoss! > 0 && report.tuned.validationLoss! > 0);
      const finalDir = summarizeRun(runDir).record!.finalDir!;
      assert.ok(existsSync(join(finalDir, 'eval.json')), 'eval.json beside the adapter');

      const samples = await waitFor('the samples document', () =>
        vscode.window.visibleTextEditors.find((e) => e.document.uri.scheme === 'localtune-eval'),
      );
      const text = samples!.document.getText();
      assert.match(text, /# Evaluation samples: base vs tuned/);
      assert.match(text, /\*\*Base\*\*/);
      assert.match(text, /\*\*Tuned\*\*/);
      await new Promise((r) => setTimeout(r, 2000));
      await screenshot('evaluation-dashboard-and-samples');
    });
  });
