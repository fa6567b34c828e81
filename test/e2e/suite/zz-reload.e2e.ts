/// <reference types="mocha" />
// Reloading the window: dashboards come back (WebviewPanelSerializer + metrics.jsonl replay), and
// training goes on — the worker outlives the extension host and the new one re-attaches to it.
//
// How: before the reload a finished run has its dashboard open and a run is left training (the
// new-user walk, walk.e2e.ts, leaves both and writes the marker; alone, this suite makes its own),
// then workbench.action.reloadWindow. The workbench reloads with the same test payload, so the
// suites run again in a fresh extension host: the other LocalTune suites see the marker and skip;
// this one checks the restored dashboard and the run that trained across the reload, Stop after the
// reload, a deleted run's dashboard closing, and removes the marker. Named zz-* so it runs last.
import * as assert from 'node:assert/strict';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as vscode from 'vscode';
import { summarizeRun } from '../../../src/jobs/runs';
import { screenshot, waitFor } from './helpers';
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

describe('LocalTune window reload', function () {
  if (!afterReload()) {
    it('before the reload: a finished run with its dashboard open, and a run still training', async function () {
      this.timeout(300_000);
      const api = await localtune();
      if (!existsSync(reloadMarker())) {
        await configureFastTraining();
        const model = process.env.LOCALTUNE_E2E_MODEL!;
        const dataset = (await vscode.commands.executeCommand<string>('localtune.buildDataset'))!;
        const finished = await startRun({ model, dataset, preset: 'lora', steps: 6, title: 'e2e reload' });
        assert.equal((await waitForOutcome(api, finished)).status, 'finished');
        const points = stepsIn(finished).length;
        await waitFor('the dashboard to draw the run', async () => {
          const s = await dashboardState(finished);
          return s && s.points >= points;
        });
        const training = await startRun({
          model,
          dataset,
          preset: 'lora',
          steps: 5000,
          title: 'e2e training across a reload',
        });
        await waitFor('the run to step', () => lastStep(training) >= 2, 90_000);
        writeFileSync(
          reloadMarker(),
          JSON.stringify({
            finished,
            points,
            training,
            stepBefore: lastStep(training),
          } satisfies ReloadMarker),
        );
      }
      const marker = JSON.parse(readFileSync(reloadMarker(), 'utf8')) as ReloadMarker;
      if (!marker.walk)
        assert.equal(api.training.activeRun, marker.training, 'a run is training as the window reloads');
      // The finished run's dashboard in front, so its restore is what the screenshot shows.
      await vscode.commands.executeCommand('localtune.showDashboard', marker.finished);
      marker.stepBefore = lastStep(marker.training);
      writeFileSync(reloadMarker(), JSON.stringify(marker));
    });
    // The reload comes after the test has ended, so its result is reported (the wrapper expects
    // it); the extension host ends here and the suites run again after the reload.
    after(async function () {
      this.timeout(30_000);
      if (!existsSync(reloadMarker())) return;
      await new Promise((r) => setTimeout(r, 1000));
      await vscode.commands.executeCommand('workbench.action.reloadWindow');
      await new Promise(() => {});
    });
  } else {
    it('after the reload: the dashboard is restored, the run trained on, Stop works, a deleted run’s dashboard closes', async function () {
      this.timeout(300_000);
      const marker = JSON.parse(readFileSync(reloadMarker(), 'utf8')) as ReloadMarker;
      rmSync(reloadMarker());
      const api = await localtune();
      // The restored tab comes back when shown (VS Code revives hidden webviews lazily).
      assert.ok(await showRestoredTab('e2e reload'), 'the finished run’s dashboard tab was restored');
      const state = await waitFor(
        'the restored dashboard to acknowledge its points',
        async () => {
          const s = await dashboardState(marker.finished);
          return s && s.points >= marker.points ? s : undefined;
        },
        60_000,
      );
      assert.ok(state!.points >= marker.points);
      await new Promise((r) => setTimeout(r, 1000));
      await screenshot('dashboard-restored-after-reload');

      // Steps after the reload reached the run folder: the worker was not stopped by it.
      await waitFor('steps past the reload', () => lastStep(marker.training) > marker.stepBefore, 120_000);
      if (!marker.walk) {
        // This window re-attached: the dashboard draws new steps live, and Stop reaches the worker.
        assert.equal(api.training.activeRun, marker.training);
        await vscode.commands.executeCommand('localtune.showDashboard', marker.training);
        const before = lastStep(marker.training);
        await waitFor(
          'the dashboard to draw a step that came after it opened',
          async () => ((await dashboardState(marker.training))?.lastStep ?? 0) > before,
          120_000,
        );
        await screenshot('dashboard-live-after-reload');
        await vscode.commands.executeCommand('localtune.stop', marker.training);
        const stopped = await waitFor(
          'the worker to stop',
          () => {
            const s = summarizeRun(marker.training);
            return s.status !== 'running' ? s : undefined;
          },
          120_000,
        );
        assert.equal(stopped!.status, 'stopped');
        assert.ok(stopped!.resumable);
      }

      // Deleting a run closes its open dashboard (and the serializer would not revive it).
      await vscode.commands.executeCommand('localtune.showDashboard', marker.finished);
      assert.ok(await dashboardState(marker.finished));
      assert.equal(await vscode.commands.executeCommand('localtune.deleteRun', marker.finished, true), true);
      await waitFor(
        'the deleted run’s dashboard to close',
        async () => (await dashboardState(marker.finished)) === undefined,
      );
      assert.ok(!existsSync(marker.finished));
    });
  }
});
