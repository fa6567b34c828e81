/// <reference types="mocha" />
// The starter model's proof in the real VS Code: the offline default model that ships in
// models/starter/, tuned on the demo project from the Fine-tune form (opened from the dataset, as
// the Datasets view's Fine-tune action opens it; the recipe typed into its fields; Start clicked),
// completes the project's held-out file better than its base, by the product's own end-of-run
// evaluation: validation loss down, exact match and edit similarity up, each by the margin in
// scripts/starter/proof.ts (below the smallest gain bench/starter/demoProof.ts measured over seeds).
import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import * as vscode from 'vscode';
import { readManifest } from '../../../src/data/datasetFiles';
import { MANIFEST_FILE } from '../../../src/data/manifest';
import { runEvaluation, runVerdict } from '../../../src/jobs/runEvaluation';
import { readRunRecord, summarizeRun } from '../../../src/jobs/runs';
import type { FinetuneValues } from '../../../webview/protocol';
import type { FinetuneDebugState } from '../../../src/vscode/finetune/finetunePanel';
import { PROOF_MARGINS, PROOF_RECIPE } from '../../../scripts/starter/proof';
import { pressKey, screenshot, waitFor, waitForText } from './helpers';
import { afterReload, localtune, waitForOutcome } from './localtuneHelpers';
import { clickOn, fillIn } from './pageActions';

const formState = () =>
  vscode.commands.executeCommand<FinetuneDebugState | undefined>('localtune.finetune.debugState');

if (!afterReload())
  describe('LocalTune starter proof', function () {
    const settings = () => vscode.workspace.getConfiguration('localtune');
    let previousDefault: string | undefined;
    after(async () => {
      // The other suites train the small GPT-2 fixture, the workspace's default before this one,
      // and find their own tabs among the first nine (reloadHelpers.showRestoredTab).
      await settings().update('defaultModel', previousDefault, vscode.ConfigurationTarget.Workspace);
      const tabs = vscode.window.tabGroups.all.flatMap((g) => g.tabs).filter((t) => !t.isDirty);
      await vscode.window.tabGroups.close(tabs);
    });

    it('the starter, tuned on the demo project from the Fine-tune form, completes the held-out file better than its base', async function () {
      this.timeout(1_200_000);
      const api = await localtune();
      const ext = vscode.extensions.getExtension('localtune.localtune')!;
      const starter = join(ext.extensionPath, 'models', 'starter');
      previousDefault = settings().inspect<string>('defaultModel')?.workspaceValue;
      await settings().update('defaultModel', starter, vscode.ConfigurationTarget.Workspace);

      // Build Dataset from Workspace with the starter's tokenizer: the recency split holds out the
      // project's newest commit, the file the evaluation completes.
      const dataset = await vscode.commands.executeCommand<string | undefined>('localtune.buildDataset', {
        existing: 'new',
      });
      assert.ok(dataset, 'dataset built');
      const newest = execFileSync('git', ['log', '-1', '--name-only', '--format='], {
        cwd: vscode.workspace.workspaceFolders![0].uri.fsPath,
        encoding: 'utf8',
      }).trim();
      const manifest = readManifest(join(dataset, MANIFEST_FILE));
      assert.deepEqual(
        manifest.heldOut?.files.map((f) => f.id),
        [newest],
      );

      // The form, opened on that dataset, with the starter as the workspace's default model.
      await vscode.commands.executeCommand('localtune.startFineTuning', { kind: 'dataset', dir: dataset });
      const form = await waitFor('the Fine-tune form', async () => (await formState())?.values, 60_000);
      assert.equal(form!.model, starter);
      assert.equal(form!.dataset, dataset);
      if (PROOF_RECIPE.mode !== form!.mode) {
        // The Method list, by keyboard: open it, move to the other method, take it.
        const applied = (await formState())?.defaultsApplied ?? 0;
        await clickOn('#f-mode');
        await pressKey(PROOF_RECIPE.mode === 'full' ? 'ArrowDown' : 'ArrowUp');
        await pressKey('Enter');
        // The method's defaults (learning rate, run name) land in the fields: type after them.
        await waitFor('the defaults of the method in the form', async () =>
          ((await formState())?.defaultsApplied ?? 0) > applied ? true : undefined,
        );
      }
      const typed: [keyof FinetuneValues, string][] = [
        ['name', 'starter proof'],
        ['steps', String(PROOF_RECIPE.steps)],
      ];
      const advanced: [keyof FinetuneValues, string][] = [
        ['lr', String(PROOF_RECIPE.lr)],
        ['seqLen', String(PROOF_RECIPE.seqLen)],
        ['batchTokens', String(PROOF_RECIPE.batchTokens)],
        ['microBatchTokens', String(PROOF_RECIPE.microBatchTokens)],
        ['evalEvery', String(PROOF_RECIPE.evalEvery)],
      ];
      for (const [key, value] of typed) await fillIn(`#f-${key} input`, value);
      await clickOn('vscode-collapsible[title="All hyperparameters"] .collapsible-header');
      for (const [key, value] of advanced) await fillIn(`#f-${key} input`, value);
      let held: unknown;
      await waitFor('the form to hold the recipe', async () => {
        const v = (await formState())?.values;
        held = v;
        return (
          v && v.mode === PROOF_RECIPE.mode && [...typed, ...advanced].every(([k, x]) => String(v[k]) === x)
        );
      }).catch((err: Error) => {
        throw new Error(`${err.message}; it holds ${JSON.stringify(held)}`);
      });
      await screenshot('starter-proof-form');
      const startedBefore = (await formState())?.lastStarted;
      await clickOn('vscode-button#start');
      const run = await waitFor('the proof run to start', async () => {
        const s = await formState();
        return s?.lastStarted && s.lastStarted !== startedBefore ? s.lastStarted : undefined;
      });
      const spec = readRunRecord(run!)!.spec;
      assert.equal(spec.modelDir, starter);
      assert.equal(spec.mode, PROOF_RECIPE.mode);
      assert.equal(spec.steps, PROOF_RECIPE.steps);
      assert.equal(spec.lr, PROOF_RECIPE.lr);

      const outcome = await waitForOutcome(api, run!, 900_000);
      assert.equal(outcome.status, 'finished', JSON.stringify(outcome));
      // The end-of-run evaluation: base vs tuned on the held-out file, as the dashboard shows it.
      await waitFor('the end-of-run evaluation', () => runVerdict(run!) ?? undefined, 300_000);
      const report = runEvaluation(run!)!;
      const base = report.base;
      const tuned = report.tuned!;
      const figures = JSON.stringify({ base, tuned });
      assert.equal(base.completion!.spans, 30, figures);
      assert.ok(
        base.validationLoss! - tuned.validationLoss! >= PROOF_MARGINS.lossDrop,
        `held-out loss ${base.validationLoss} -> ${tuned.validationLoss}`,
      );
      assert.ok(
        tuned.completion!.exactMatch - base.completion!.exactMatch >= PROOF_MARGINS.exactMatch,
        `exact match ${base.completion!.exactMatch} -> ${tuned.completion!.exactMatch}`,
      );
      assert.ok(
        tuned.completion!.editSimilarity - base.completion!.editSimilarity >= PROOF_MARGINS.editSimilarity,
        `edit similarity ${base.completion!.editSimilarity} -> ${tuned.completion!.editSimilarity}`,
      );
      assert.equal(runVerdict(run!), 'better');
      assert.equal(summarizeRun(run!).status, 'finished');

      // What the user sees: the dashboard's evaluation table, base beside tuned.
      await vscode.commands.executeCommand('localtune.showDashboard', run);
      await waitForText('the dashboard to show base vs tuned', '.evaluation-table', (t) =>
        t.includes('exact match'),
      );
      await new Promise((r) => setTimeout(r, 1500));
      await screenshot('starter-proof-dashboard');
    });
  });
