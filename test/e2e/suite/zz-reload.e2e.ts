/// <reference types="mocha" />
// Reloading the window restores the dashboard (WebviewPanelSerializer + metrics.jsonl replay), and
// a run interrupted by the reload reads as stopped and resumable.
//
// How: before the reload this suite trains a short run, opens its dashboard, writes a marker
// (.localtune/e2e-reload.json) and runs workbench.action.reloadWindow. The workbench reloads with
// the same test payload, so the suites run again in a fresh extension host: the other LocalTune
// suites see the marker and skip; this one checks the restored dashboard and removes the marker.
// Named zz-* so it runs after every other suite in the first pass.
import * as assert from 'node:assert/strict';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
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

interface Marker {
  finished: string;
  interrupted: string;
  points: number;
}

describe('LocalTune window reload', function () {
  if (!afterReload()) {
    it('before the reload: a finished run with its dashboard open, and a run still training', async function () {
      this.timeout(240_000);
      const api = await localtune();
      await configureFastTraining();
      const model = process.env.LOCALTUNE_E2E_MODEL!;
      const dataset = (await vscode.commands.executeCommand<string>('localtune.buildDataset'))!;
      const finished = await startRun({ model, dataset, preset: 'lora', steps: 6, title: 'e2e reload' });
      assert.equal((await waitForOutcome(api, finished)).status, 'finished');
      const points = stepsIn(finished).length;
      await waitFor('the dashboard to draw the run', async () => {
        const s = await vscode.commands.executeCommand<{ points: number } | undefined>(
          'localtune.dashboard.debugState',
          finished,
        );
        return s && s.points >= points;
      });
      // A second run left training: the reload must stop it cleanly with a checkpoint.
      const interrupted = await startRun({
        model,
        dataset,
        preset: 'lora',
        steps: 5000,
        title: 'e2e interrupted by reload',
      });
      await waitFor(
        'a checkpoint of the interrupted run',
        () => summarizeRun(interrupted).checkpoints.length > 0,
        90_000,
      );
      // Leave only the finished run's dashboard open, so the restored one is unambiguous.
      await vscode.commands.executeCommand('localtune.showDashboard', finished);
      writeFileSync(reloadMarker(), JSON.stringify({ finished, interrupted, points } satisfies Marker));
      await vscode.commands.executeCommand('workbench.action.reloadWindow');
      // The extension host ends here; the suites run again after the reload.
      await new Promise(() => {});
    });
  } else {
    it('after the reload: the dashboard is restored with every point, and the interrupted run is stopped and resumable', async function () {
      this.timeout(120_000);
      const marker = JSON.parse(readFileSync(reloadMarker(), 'utf8')) as Marker;
      rmSync(reloadMarker());
      await localtune();
      const state = await waitFor(
        'the restored dashboard to acknowledge its points',
        async () => {
          const s = await vscode.commands.executeCommand<{ points: number } | undefined>(
            'localtune.dashboard.debugState',
            marker.finished,
          );
          return s && s.points >= marker.points ? s : undefined;
        },
        60_000,
      );
      assert.ok(state!.points >= marker.points);
      await new Promise((r) => setTimeout(r, 1000));
      await screenshot('dashboard-restored-after-reload');
      const interrupted = await waitFor(
        'the interrupted worker to exit',
        () => {
          const s = summarizeRun(marker.interrupted);
          return s.status !== 'running' ? s : undefined;
        },
        60_000,
      );
      assert.equal(interrupted!.status, 'stopped');
      assert.ok(interrupted!.resumable);
    });
  }
});
