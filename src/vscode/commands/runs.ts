/**
 * The Runs view and what is done with a finished (or stopped) run: export it as a model folder
 * (also the dashboard's Export model button) and delete it.
 */
import { existsSync, rmSync } from 'node:fs';
import { basename, join } from 'node:path';
import * as vscode from 'vscode';
import { summarizeRun } from '../../jobs/runs';
import { DashboardPanel } from '../dashboard/dashboardPanel';
import type { RunNode } from '../trees/runsTree';
import { command, guarded, runDirOf, type CommandDeps } from './common';

export function registerRuns(d: CommandDeps): vscode.Disposable[] {
  const { training, log } = d;
  const exportModel = guarded(log, 'localtune.exportModel', async (arg?: RunNode | string) => {
    const runDir = runDirOf(arg) ?? training.activeRun ?? d.runs.runs()[0]?.runDir;
    if (!runDir) return;
    const r = summarizeRun(runDir);
    const trained =
      r.record?.finalDir && existsSync(r.record.finalDir) ? r.record.finalDir : r.checkpoints.at(-1)?.dir;
    if (!r.record || !trained) {
      void vscode.window.showWarningMessage(
        'LocalTune: this run has no adapter or checkpoint to export yet.',
      );
      return;
    }
    const full = r.record.spec.mode === 'full';
    const dtype = await vscode.window.showQuickPick(
      [
        { label: 'fp32', description: 'exact; the size of the base model', value: 'fp32' as const },
        {
          label: 'int8',
          description: 'weight-only 8-bit: ~4x smaller, faster on CPU',
          value: 'int8' as const,
        },
      ],
      { title: 'LocalTune: export precision' },
    );
    if (!dtype) return;
    const outDir = join(runDir, `export-${dtype.value}-${new Date().toISOString().replace(/[:.]/g, '-')}`);
    const done = await training.exportModel({
      kind: 'export',
      // A full fine-tune's output is a whole model folder; LoRA merges the adapter into the base.
      modelDir: full ? trained : r.record.spec.modelDir,
      adapterDir: full ? undefined : trained,
      outDir,
      dtype: dtype.value,
    });
    if (!done) return;
    const diff =
      done.maxLogitDiff === undefined
        ? ''
        : ` (max logit difference vs fp32: ${done.maxLogitDiff.toFixed(3)})`;
    const pick = await vscode.window.showInformationMessage(
      `LocalTune: exported a transformers.js model folder to ${done.outDir}${diff}.`,
      'Reveal folder',
    );
    if (pick) await vscode.commands.executeCommand('revealFileInOS', vscode.Uri.file(done.outDir));
  });

  return [
    vscode.window.registerTreeDataProvider('localtune.runs', d.runs),
    vscode.commands.registerCommand('localtune.exportModel', exportModel),
    DashboardPanel.handle({ export: exportModel }),
    command(log, 'localtune.deleteRun', async (arg?: RunNode | string, confirmed?: boolean) => {
      const runDir = runDirOf(arg);
      if (!runDir) return false;
      if (training.activeRun === runDir) {
        void vscode.window.showWarningMessage('LocalTune: stop this run before deleting it.');
        return false;
      }
      const title = summarizeRun(runDir).record?.title ?? basename(runDir);
      const ok =
        confirmed === true ||
        (await vscode.window.showWarningMessage(
          `Delete the run "${title}" with its checkpoints and adapter? This cannot be undone.`,
          { modal: true },
          'Delete',
        )) === 'Delete';
      if (!ok) return false;
      rmSync(runDir, { recursive: true, force: true });
      d.runs.refresh();
      return true;
    }),
  ];
}
