/**
 * Inline completions as a feature: the provider, the statistics every dashboard shows, Use for
 * Completions (a run, or a model / adapter / exported folder) and Toggle Completions.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import * as vscode from 'vscode';
import { hubCacheDir } from '../../engine/hub/hub';
import { RUN_FILE, summarizeRun } from '../../jobs/runs';
import { resolveServedModel } from '../completion/completionModel';
import { CompletionProvider } from '../completion/completionProvider';
import type { CompletionService } from '../completion/completionService';
import { DashboardPanel } from '../dashboard/dashboardPanel';
import { cachedHubModel } from '../modelCatalog';
import { settings } from '../settings';
import type { RunNode } from '../trees/runsTree';
import { command, type CommandDeps } from './common';
import { confirmServing, pickRun, pickWeights } from './runPick';

export function registerCompletions(d: CommandDeps, completions: CompletionService): vscode.Disposable[] {
  const { log } = d;
  const showCompletionStats = () => DashboardPanel.setCompletionStats(completions.stats.all());
  showCompletionStats();
  return [
    ...new CompletionProvider(completions, log).register(),
    completions.stats.onDidChange(showCompletionStats),
    // `confirmed`: scripts and tests that already accepted serving a run evaluated as worse.
    command(log, 'localtune.useForCompletions', async (arg?: RunNode | string, confirmed?: boolean) => {
      // A run (its folder or tree node, or the user's pick), or a model / adapter / exported folder by path.
      const target = await pickRun(d.runs, arg, 'use for completions');
      if (!target) return undefined;
      const isRun = existsSync(join(target, RUN_FILE)) || typeof arg !== 'string';
      const r = isRun ? summarizeRun(target) : undefined;
      // Which weights (final, best, a checkpoint); a model the evaluation found worse asks first.
      const weights = r ? await pickWeights(r.runDir, arg, 'use for completions') : undefined;
      if (r && (!weights || (confirmed !== true && !(await confirmServing(weights))))) return undefined;
      const model = weights?.dir ?? target;
      const served = await resolveServedModel(
        model,
        async (id) =>
          (await cachedHubModel(id, hubCacheDir())) ?? (await cachedHubModel(id, d.downloadCache())),
      );
      if ('error' in served) {
        void vscode.window.showWarningMessage(`LocalTune: cannot serve completions: ${served.error}.`);
        return undefined;
      }
      const config = vscode.workspace.getConfiguration('localtune');
      await config.update('completions.model', model, vscode.ConfigurationTarget.Workspace);
      await config.update('completions.enabled', true, vscode.ConfigurationTarget.Workspace);
      await d.context.workspaceState.update('localtune.completionRun', r?.runDir);
      d.runs.refresh();
      void vscode.window.showInformationMessage(`LocalTune: completions now come from ${served.label}.`);
      return model;
    }),
    command(log, 'localtune.toggleCompletions', async () => {
      const enabled = !settings().completions.enabled;
      await vscode.workspace
        .getConfiguration('localtune')
        .update('completions.enabled', enabled, vscode.ConfigurationTarget.Workspace);
      // Off: the ghost text on screen goes too.
      if (!enabled) await vscode.commands.executeCommand('editor.action.inlineSuggest.hide');
      else if (!settings().completions.model)
        void vscode.window.showInformationMessage(
          'LocalTune: completions are on; choose a run with "Use for Completions" in the Runs view.',
        );
      vscode.window.setStatusBarMessage(`LocalTune completions ${enabled ? 'on' : 'off'}`, 3000);
      return enabled;
    }),
  ];
}
