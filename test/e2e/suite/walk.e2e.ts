/// <reference types="mocha" />
// A new user's walk through the tuning loop in the real VS Code: the Fine-tune form opens, shows a
// pre-flight estimate measured on this machine, and starts a named run from values typed into its
// fields and a click on Start (through the page, as a user does); the window reloads mid-run
// (zz-reload.e2e.ts performs the reload after every suite's first pass); the run keeps training and
// the dashboard keeps drawing; at the end the automatic evaluation gives a verdict in the Runs view
// and the dashboard; the run serves completions; it is exported where asked.
//
// Before the reload this suite also leaves a finished run with its dashboard open and writes the
// reload marker, so zz-reload checks the restored dashboard and the run that trained across it.
import * as assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as vscode from 'vscode';
import type { FinetuneValues } from '../../../webview/protocol';
import { runVerdict } from '../../../src/jobs/runEvaluation';
import type { FinetuneDebugState } from '../../../src/vscode/finetune/finetunePanel';
import { readRunRecord, summarizeRun } from '../../../src/jobs/runs';
import { screenshot, waitFor } from './helpers';
import { clickOn, fillIn } from './pageActions';
import {
  afterReload,
  configureFastTraining,
  localtune,
  reloadMarker,
  startRun,
  stepsIn,
  waitForOutcome,
} from './localtuneHelpers';
import { dashboardState, lastStep, showRestoredTab, type ReloadMarker } from './reloadHelpers';

describe('LocalTune new-user walk', function () {
  if (!afterReload()) {
    it('form → estimate → named run, left training for the reload', async function () {
      this.timeout(420_000);
      const api = await localtune();
      await configureFastTraining();
      const model = process.env.LOCALTUNE_E2E_MODEL!;
      const dataset = (await vscode.commands.executeCommand<string>('localtune.buildDataset'))!;
      // A finished run with its dashboard open: the reload must restore that dashboard.
      const finished = await startRun({ model, dataset, preset: 'lora', steps: 6, title: 'e2e reload' });
      assert.equal((await waitForOutcome(api, finished)).status, 'finished');
      const points = stepsIn(finished).length;
      await waitFor('the dashboard to draw the finished run', async () => {
        const s = await dashboardState(finished);
        return s && s.points >= points;
      });

      // The form, as the Start command opens it, with its estimate measured in the worker.
      await vscode.commands.executeCommand('localtune.startFineTuning');
      const form = await waitFor(
        'the Fine-tune form to show an estimate',
        async () => {
          const s = await vscode.commands.executeCommand<FinetuneDebugState | undefined>(
            'localtune.finetune.debugState',
          );
          return s?.estimate || s?.error ? s : undefined;
        },
        240_000,
      );
      assert.equal(form!.error, undefined, form!.error);
      const e = form!.estimate!;
      assert.ok(e.trainTokens > 0 && e.steps > 0 && e.seconds > 0 && e.peakBytes > 0, JSON.stringify(e));
      assert.ok(e.stepSeconds > 0, 'a step was measured on this machine');
      assert.ok(
        e.evaluations > 0 && e.checkpoints > 0,
        'the time holds the evaluations and checkpoint writes',
      );
      await new Promise((r) => setTimeout(r, 1500));
      await screenshot('walk-finetune-form-estimate');

      // Start from the form as a user does: a name and a few more steps than the reload takes typed
      // into its fields, the hyperparameters opened and set for a quick run, the Start button clicked.
      const typed: [keyof FinetuneValues, string][] = [
        ['name', 'e2e walk'],
        ['steps', '150'],
      ];
      const advanced: [keyof FinetuneValues, string][] = [
        ['lr', '0.0005'],
        ['seqLen', '32'],
        ['batchTokens', '128'],
        ['microBatchTokens', '128'],
        ['evalEvery', '8'],
        ['checkpointEvery', '8'],
      ];
      const startedBefore = form!.lastStarted;
      for (const [key, value] of typed) await fillIn(`#f-${key} input`, value);
      await clickOn('vscode-collapsible[title="All hyperparameters"] .collapsible-header');
      for (const [key, value] of advanced) await fillIn(`#f-${key} input`, value);
      // The page sends what it reads from its fields to the host: the typed values arrived.
      const read = await waitFor('the form to send the typed values', async () => {
        const v = (
          await vscode.commands.executeCommand<FinetuneDebugState | undefined>(
            'localtune.finetune.debugState',
          )
        )?.values;
        return v && [...typed, ...advanced].every(([k, x]) => String(v[k]) === x) ? v : undefined;
      }).catch(async (err: Error) => {
        const s = await vscode.commands.executeCommand<FinetuneDebugState | undefined>(
          'localtune.finetune.debugState',
        );
        throw new Error(`${err.message}; the host holds ${JSON.stringify(s?.values)}`);
      });
      await screenshot('walk-finetune-form-filled');
      await clickOn('vscode-button#start');
      const training = await waitFor('the run the Start button started', async () => {
        const s = await vscode.commands.executeCommand<FinetuneDebugState | undefined>(
          'localtune.finetune.debugState',
        );
        return s?.lastStarted && s.lastStarted !== startedBefore ? s.lastStarted : undefined;
      });
      const record = readRunRecord(training!);
      assert.equal(record?.title, 'e2e walk');
      assert.equal(record?.spec.modelDir, read!.model, 'the model the form showed');
      assert.deepEqual(record?.spec.data, [read!.dataset]);
      assert.equal(record?.spec.modelDir, model, 'the workspace default model is the form’s first');
      assert.deepEqual(record?.spec.data, [dataset]);
      // The typed values are the run's, saved in it.
      assert.equal(record?.spec.steps, 150);
      assert.equal(record?.spec.lr, 0.0005);
      assert.equal(record?.spec.seqLen, 32);
      assert.equal(record?.spec.batchTokens, 128);
      assert.equal(record?.spec.microBatchTokens, 128);
      assert.equal(record?.spec.evalEvery, 8);
      assert.equal(record?.spec.checkpointEvery, 8);
      assert.equal(record?.spec.keepBest, true);
      assert.equal(record?.spec.patience, 3);
      await waitFor('the walk run to step', () => lastStep(training!) >= 2, 120_000);
      await waitFor(
        'its dashboard to draw',
        async () => ((await dashboardState(training!))?.lastStep ?? 0) >= 2,
      );
      writeFileSync(
        reloadMarker(),
        JSON.stringify({
          finished,
          points,
          training: training!,
          stepBefore: lastStep(training!),
          walk: true,
        } satisfies ReloadMarker),
      );
    });
  } else {
    it('after the reload: the run kept training, the dashboard live; verdict, completions, export', async function () {
      this.timeout(600_000);
      const marker = JSON.parse(readFileSync(reloadMarker(), 'utf8')) as ReloadMarker;
      if (!marker.walk) this.skip();
      const api = await localtune();
      const run = marker.training;
      // The worker outlived the old extension host; this one re-attached to it.
      await waitFor(
        'the re-attached run',
        () => api.training.activeRun === run || summarizeRun(run).status === 'finished',
      ).catch((err: Error) => {
        // What the run folder says, for the failure message.
        const lock = join(vscode.workspace.workspaceFolders![0].uri.fsPath, '.localtune', 'train.lock');
        const read = (f: string) => (existsSync(f) ? readFileSync(f, 'utf8').slice(-1500) : '(none)');
        throw new Error(
          `${err.message}; activeRun ${api.training.activeRun}; run.json ${read(join(run, 'run.json'))}; lock ${read(lock)}; worker.log ${read(join(run, 'worker.log'))}`,
        );
      });
      if (!(await showRestoredTab('e2e walk')))
        await vscode.commands.executeCommand('localtune.showDashboard', run);
      const shown = await waitFor(
        'the dashboard to draw steps past the reload',
        async () => {
          const s = await dashboardState(run);
          return s && s.lastStep > marker.stepBefore ? s : undefined;
        },
        120_000,
      );
      assert.ok(shown!.lastStep > marker.stepBefore);
      await screenshot('walk-dashboard-live-after-reload');

      const outcome = await waitForOutcome(api, run, 300_000).catch(() => undefined);
      assert.equal(summarizeRun(run).status, 'finished', JSON.stringify(outcome));
      assert.ok(lastStep(run) > marker.stepBefore, 'steps after the reload landed in the run folder');
      // The automatic evaluation ends with a verdict in the Runs view and the dashboard.
      const verdict = await waitFor('the end-of-run verdict', () => runVerdict(run) ?? undefined, 300_000);
      assert.ok(['better', 'no better', 'worse'].includes(verdict!));
      const item = api.runs.getTreeItem({ kind: 'run', run: summarizeRun(run) });
      assert.match(String(item.description), /better|worse: not recommended/);
      await vscode.commands.executeCommand('localtune.showDashboard', run);
      await new Promise((r) => setTimeout(r, 2500));
      await screenshot('walk-dashboard-verdict');

      // Completions from the run (a worse one would ask first; the test answers for the user).
      const served = await vscode.commands.executeCommand<string | undefined>(
        'localtune.useForCompletions',
        run,
        true,
      );
      assert.ok(served && existsSync(served), `served ${served}`);
      assert.equal(vscode.workspace.getConfiguration('localtune').get('completions.model'), served);

      // Export where asked (the save dialog's answer given), a model folder transformers.js loads.
      const outDir = join(
        vscode.workspace.workspaceFolders![0].uri.fsPath,
        '.localtune',
        'exports',
        'e2e-walk',
      );
      const exported = await vscode.commands.executeCommand<string | undefined>(
        'localtune.exportModel',
        run,
        {
          dtype: 'int8',
          outDir,
        },
      );
      assert.equal(exported, outDir);
      assert.ok(
        readdirSync(join(outDir, 'onnx')).some((f) => f.endsWith('.onnx')),
        'an ONNX model',
      );
      assert.ok(existsSync(join(outDir, 'README.md')), 'a model card');
    });
  }
});
