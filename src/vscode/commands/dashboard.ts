/**
 * The training dashboard as a feature: Show Dashboard (for the running run, or a pick), the
 * panel serializer that restores dashboards after a window reload, and the e2e tests' view of
 * what a dashboard drew. The run buttons' handlers belong to the features that own them.
 */
import * as vscode from 'vscode';
import { DashboardPanel } from '../dashboard/dashboardPanel';
import type { RunNode } from '../trees/runsTree';
import { command, runDirOf, type CommandDeps } from './common';

export function registerDashboard(d: CommandDeps): vscode.Disposable[] {
  const { training, log } = d;
  return [
    DashboardPanel.registerSerializer(d.context),
    command(log, 'localtune.showDashboard', async (arg?: RunNode | string) => {
      let runDir = runDirOf(arg) ?? training.activeRun;
      if (!runDir) {
        const runs = d.runs.runs();
        if (runs.length === 0) {
          void vscode.window.showInformationMessage('LocalTune: no runs yet. Start fine-tuning first.');
          return;
        }
        runDir =
          runs.length === 1
            ? runs[0].runDir
            : (
                await vscode.window.showQuickPick(
                  runs.map((r) => ({
                    label: r.record?.title ?? r.id,
                    description: r.status,
                    value: r.runDir,
                  })),
                )
              )?.value;
      }
      if (runDir) training.showDashboard(runDir);
    }),
    // For the e2e tests: what the dashboard's page acknowledged having drawn for a run.
    command(log, 'localtune.dashboard.debugState', (runDir?: string) =>
      runDir ? DashboardPanel.debugState(runDir) : undefined,
    ),
  ];
}
