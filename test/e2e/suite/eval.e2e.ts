/// <reference types="mocha" />
// Evaluate in a real extension host: a finished run is evaluated against its base in the worker;
// the dashboard's evaluation section shows base vs tuned (its table read back from the webview's
// DOM), the samples open beside it and again from Show Evaluation Samples, and the report lands in
// eval.json beside the adapter (where export finds it for the model card).
import * as assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import * as vscode from 'vscode';
import { figureRows } from '../../../src/eval/figures';
import type { EvalReport } from '../../../src/eval/report';
import { summarizeRun } from '../../../src/jobs/runs';
import { screenshot, waitFor, waitForText } from './helpers';
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
      // The dashboard's page draws the report: each figure's row with the base and tuned values.
      const rows = figureRows(report);
      assert.ok(rows.length >= 3, JSON.stringify(rows));
      // Latencies are timings: the end-of-run evaluation and this one differ there, so the dashboard
      // may show either's; every other figure is deterministic and must match cell for cell.
      const timing = (label: string) => /latency/.test(label);
      const table = await waitForText('the dashboard to show base vs tuned', '.evaluation-table', (t) =>
        t.includes(rows[0].label),
      );
      const lines = table.split('\n').map((l) => l.split('\t').map((c) => c.trim()));
      assert.deepEqual(lines[0].slice(1), ['base', 'tuned'], table);
      for (const row of rows)
        assert.ok(
          lines.some((l) =>
            timing(row.label)
              ? l[0] === row.label && l.slice(1).every((c) => /^\d+ \/ \d+ ms$/.test(c))
              : l.join('|') === [row.label, row.base, row.tuned ?? '—'].join('|'),
          ),
          `the row ${JSON.stringify(row)} in ${JSON.stringify(table)}`,
        );
      await new Promise((r) => setTimeout(r, 1000));
      await screenshot('evaluation-dashboard-and-samples');

      // Closed, the samples come back from Show Evaluation Samples (the report is not recomputed).
      await vscode.commands.executeCommand('workbench.action.closeAllEditors');
      await vscode.commands.executeCommand('localtune.showEvaluationSamples', runDir);
      const again = await waitFor('the samples document again', () =>
        vscode.window.visibleTextEditors.find((e) => e.document.uri.scheme === 'localtune-eval'),
      );
      assert.equal(again!.document.getText(), text);
      // No dashboard open this time: the samples take the empty group, not a split beside it.
      const groups = vscode.window.tabGroups.all.map((g) => g.tabs.map((t) => t.label));
      assert.equal(groups.length, 1, `editor groups: ${JSON.stringify(groups)}`);
      await screenshot('evaluation-samples-alone');
    });
  });
