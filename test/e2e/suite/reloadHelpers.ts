// What walk.e2e.ts and zz-reload.e2e.ts share across the window reload (not a suite itself).
import * as vscode from 'vscode';
import { stepsIn } from './localtuneHelpers';

/** What the reload marker carries between the two passes (zz-reload.e2e.ts reads it too). */
export interface ReloadMarker {
  finished: string;
  points: number;
  /** The run left training across the reload, and its last step before it. */
  training: string;
  stepBefore: number;
  /** Written by the walk (the run came from the form) rather than by zz-reload alone. */
  walk?: boolean;
}

/**
 * Brings a dashboard tab the reload restored to the front: VS Code revives a hidden webview only
 * when it is shown, and Show Dashboard would open a second one before the first came back.
 */
export async function showRestoredTab(title: string): Promise<boolean> {
  for (const group of vscode.window.tabGroups.all) {
    const i = group.tabs.findIndex((t) => t.label === title && t.input instanceof vscode.TabInputWebview);
    // The workbench opens a tab by index only for the first nine (openEditorAtIndex1-9).
    if (i < 0 || i >= 9) continue;
    await vscode.commands.executeCommand('workbench.action.focusFirstEditorGroup');
    for (let g = 1; g < group.viewColumn; g++)
      await vscode.commands.executeCommand('workbench.action.focusNextGroup');
    await vscode.commands.executeCommand(`workbench.action.openEditorAtIndex${i + 1}`);
    return true;
  }
  return false;
}

/** The last step (or evaluation) a run's metrics.jsonl holds. */
export const lastStep = (runDir: string) => stepsIn(runDir).reduce((m, e) => Math.max(m, e.step), 0);

/** What the dashboards showing a run have drawn (localtune.dashboard.debugState). */
export async function dashboardState(runDir: string) {
  return vscode.commands.executeCommand<{ points: number; lastStep: number } | undefined>(
    'localtune.dashboard.debugState',
    runDir,
  );
}
