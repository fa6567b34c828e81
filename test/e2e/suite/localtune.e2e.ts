/// <reference types="mocha" />
// LocalTune in a real extension host, on the fixture workspace and the small offline model that
// test/e2e/runTests.mjs provides (LOCALTUNE_E2E_WORKSPACE, LOCALTUNE_E2E_MODEL): the Datasets tree
// shows a built dataset with the manifest's counts; Start fine-tuning runs to completion and the
// Runs tree and the dashboard's page receive the metrics, and the run can be renamed; Stop writes a checkpoint and Resume
// continues from it; a killed worker is reported and the extension keeps working.
// The Runs tree is read twice: the items its TreeDataProvider returns, and the rows the view draws
// (the workbench's DOM); the error notification is read from the notification list's DOM.
// (The window-reload test is zz-reload.e2e.ts: it must run last.)
import * as assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as vscode from 'vscode';
import type { DatasetManifest } from '../../../src/data/manifest';
import { summarizeRun } from '../../../src/jobs/runs';
import {
  afterReload,
  configureFastTraining,
  localtune,
  startRun,
  stepsIn,
  waitForOutcome,
} from './localtuneHelpers';
import { screenshot, waitFor, waitForText } from './helpers';

// After the reload (zz-reload.e2e.ts) these have run already: they are not defined again.
if (!afterReload())
  describe('LocalTune', function () {
    let datasetDir = '';
    const model = process.env.LOCALTUNE_E2E_MODEL!;
    /** The Runs tree's own item for a run, as its TreeDataProvider hands it to the view. */
    const runItem = async (runDir: string) => {
      const api = await localtune();
      const node = api.runs.getChildren().find((n) => n.kind === 'run' && n.run.runDir === runDir);
      return node && api.runs.getTreeItem(node);
    };
    /** The row the Runs view draws for a run titled `title`, once its text matches `status`. */
    const runRow = async (title: string, status: RegExp) => {
      await vscode.commands.executeCommand('localtune.runs.focus');
      return waitForText(
        `the Runs view to draw ${title} as ${status}`,
        '.monaco-list-row',
        (t) => t.includes(title) && status.test(t),
      );
    };
    /** A run far longer than the test: it is stopped or killed on the way. */
    const longRun = (title: string) =>
      startRun({ model, dataset: datasetDir, preset: 'lora', steps: 5000, title });

    before(async function () {
      this.timeout(60_000);
      await localtune();
      await configureFastTraining();
    });

    it('Build dataset from workspace: the Datasets tree shows it with the manifest counts', async function () {
      const api = await localtune();
      datasetDir = (await vscode.commands.executeCommand<string | undefined>('localtune.buildDataset')) ?? '';
      assert.ok(datasetDir && existsSync(join(datasetDir, 'manifest.json')), `dataset built: ${datasetDir}`);
      const manifest = JSON.parse(readFileSync(join(datasetDir, 'manifest.json'), 'utf8')) as DatasetManifest;
      assert.ok(manifest.tokens.train > 0 && manifest.files.train > 0);

      const roots = api.datasets.getChildren();
      assert.equal(roots.length, 1);
      const item = api.datasets.getTreeItem(roots[0]);
      assert.equal(item.label, manifest.name);
      const train = manifest.tokens.train;
      assert.match(
        String(item.description),
        new RegExp(`${train < 1000 ? train : (train / 1000).toFixed(train < 1e4 ? 1 : 0) + 'k'} train`),
      );
      const [source] = api.datasets.getChildren(roots[0]);
      const files = api.datasets.getChildren(source);
      const used = files.filter((f) => f.kind === 'file' && !f.file.skip);
      assert.equal(
        used.length,
        manifest.files.train + manifest.files.validation,
        'one tree row per file used',
      );
      const tokens = used.reduce((n, f) => n + (f.kind === 'file' ? f.file.tokens : 0), 0);
      assert.equal(
        tokens,
        manifest.tokens.train + manifest.tokens.validation,
        'file token counts add up to the manifest',
      );
      const fileItem = api.datasets.getTreeItem(used[0]);
      assert.match(String(fileItem.description), /tokens/);

      await vscode.commands.executeCommand('localtune.datasets.focus');
      await new Promise((r) => setTimeout(r, 1000));
      await screenshot('datasets-tree');
    });

    it('Start fine-tuning runs to completion; the Runs tree and the dashboard page receive the metrics', async function () {
      const api = await localtune();
      const steps = 12;
      const runDir = await startRun({
        model,
        dataset: datasetDir,
        preset: 'lora',
        steps,
        title: 'e2e finished run',
      });
      const outcome = await waitForOutcome(api, runDir);
      assert.equal(outcome.status, 'finished', JSON.stringify(outcome));

      const node = api.runs.getChildren().find((n) => n.kind === 'run' && n.run.runDir === runDir)!;
      assert.ok(node, 'the run is listed');
      const item = api.runs.getTreeItem(node);
      assert.match(String(item.description), new RegExp(`finished · step ${steps}/${steps} · best val \\d`));
      await runRow('e2e finished run', new RegExp(`finished · (.* · )?step ${steps}/${steps}`));
      // Rename Run: the view's item and its row take the new name.
      assert.equal(
        await vscode.commands.executeCommand('localtune.renameRun', runDir, 'e2e renamed run'),
        'e2e renamed run',
      );
      assert.equal((await runItem(runDir))?.label, 'e2e renamed run');
      await runRow('e2e renamed run', /finished/);
      assert.ok(api.runs.getChildren(node).length >= 1, 'its checkpoints are listed');

      // Points the webview acknowledged having drawn: every step plus the evals.
      const metrics = stepsIn(runDir);
      const state = await waitFor(
        'the dashboard page to acknowledge every point',
        async () => {
          const s = await vscode.commands.executeCommand<{ points: number; lastStep: number } | undefined>(
            'localtune.dashboard.debugState',
            runDir,
          );
          return s && s.points >= metrics.length && s.lastStep === steps ? s : undefined;
        },
        30_000,
      );
      assert.equal(state!.lastStep, steps);
      await vscode.commands.executeCommand('localtune.runs.focus');
      await new Promise((r) => setTimeout(r, 1500));
      await screenshot('runs-tree-and-dashboard');
    });

    it('Stop writes a checkpoint; Resume continues from it', async function () {
      const api = await localtune();
      const runDir = await longRun('e2e stop and resume');
      await waitFor('two steps', () => summarizeRun(runDir).step >= 2, 60_000);
      const stopped = await vscode.commands.executeCommand<{ status: string; done?: { step: number } }>(
        'localtune.stop',
        runDir,
      );
      assert.equal(stopped?.status, 'stopped', JSON.stringify(stopped));
      const at = stopped!.done!.step;
      const summary = summarizeRun(runDir);
      assert.equal(summary.status, 'stopped');
      assert.equal(summary.checkpoints.at(-1)?.step, at, 'a checkpoint at the step it stopped');
      assert.ok(summary.resumable);
      const item = await waitFor('the Runs tree to say stopped', async () => {
        const i = await runItem(runDir);
        return i && String(i.description).startsWith('stopped') ? i : undefined;
      });
      assert.match(String(item!.description), new RegExp(`^stopped · (.* · )?step ${at}/5000`));
      assert.match(await runRow('e2e stop and resume', /stopped · (.* · )?step/), /e2e stop and resume/);
      await screenshot('run-stopped');

      const resumed = await vscode.commands.executeCommand<string | undefined>('localtune.resume', runDir);
      assert.equal(resumed, runDir);
      const job = api.training.activeJob!;
      const start = await new Promise<{ startStep: number }>((resolve) => {
        const off = job.onMessage((m) => {
          if (m.type === 'start') {
            off();
            resolve(m);
          }
        });
      });
      assert.equal(start.startStep, at, 'resumed from the checkpoint');
      await waitFor('a step after the checkpoint', () => summarizeRun(runDir).step > at, 60_000);
      const again = await vscode.commands.executeCommand<{ status: string }>('localtune.stop', runDir);
      assert.equal(again?.status, 'stopped');
    });

    it('killing the worker shows an error and leaves the extension usable', async function () {
      const api = await localtune();
      const runDir = await longRun('e2e killed run');
      await waitFor('a checkpoint', () => summarizeRun(runDir).checkpoints.length > 0, 90_000);
      const checkpoint = summarizeRun(runDir).checkpoints.at(-1)!;
      process.kill(api.training.activeJob!.pid!, 'SIGKILL');
      const outcome = await waitForOutcome(api, runDir);
      assert.equal(outcome.status, 'failed');
      assert.ok(outcome.status === 'failed' && outcome.cause === 'killed', JSON.stringify(outcome));
      assert.ok(existsSync(join(checkpoint.dir, 'trainer_state.json')), 'the last checkpoint is intact');
      const item = await waitFor('the Runs tree to say failed', async () => {
        const i = await runItem(runDir);
        return i && String(i.description).startsWith('failed') ? i : undefined;
      });
      assert.match(
        String(item!.tooltip instanceof vscode.MarkdownString ? item!.tooltip.value : ''),
        /killed/,
      );
      await runRow('e2e killed run', /failed · step/);
      await vscode.commands.executeCommand('notifications.showList');
      const shown = await waitForText('the error notification', '.notification-list-item-message', (t) =>
        t.includes('e2e killed run training stopped unexpectedly'),
      );
      const cause = outcome.status === 'failed' ? outcome.message : '';
      assert.ok(cause && shown.endsWith(cause), `the notification names the cause: ${shown}`);
      await screenshot('worker-killed-error');
      await vscode.commands.executeCommand('notifications.hideList');

      // Still usable: a new run trains to the end.
      const next = await startRun({
        model,
        dataset: datasetDir,
        preset: 'lora',
        steps: 3,
        title: 'e2e after the crash',
      });
      const ok = await waitForOutcome(api, next);
      assert.equal(ok.status, 'finished', JSON.stringify(ok));
    });
  });
