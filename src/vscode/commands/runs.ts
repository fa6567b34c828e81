/**
 * The Runs view and what is done with a finished (or stopped) run: export one of its weights as a
 * model folder where the user chooses (also the dashboard's Export model button), rename it, and
 * delete it (its dashboard closes with it).
 */
import { existsSync, rmSync } from 'node:fs';
import { basename, join, relative } from 'node:path';
import * as vscode from 'vscode';
import { readRunRecord, summarizeRun, writeRunRecord } from '../../jobs/runs';
import { DashboardPanel } from '../dashboard/dashboardPanel';
import type { RunNode } from '../trees/runsTree';
import { command, guarded, runDirOf, workspaceRoot, type CommandDeps } from './common';
import { pickRun, pickWeights, weightsLabel } from './runPick';

/** What scripts and tests pass instead of answering the precision pick and the save dialog. */
export interface ExportArgs {
  dtype: 'fp32' | 'int8';
  outDir: string;
}

/**
 * Shows an exported folder: the OS file manager in desktop VS Code; where that command does not
 * exist (code-server, the browser) the Explorer for a folder inside the workspace, else its model card.
 */
export async function revealFolder(dir: string): Promise<void> {
  const commands = await vscode.commands.getCommands(true);
  const uri = vscode.Uri.file(dir);
  if (commands.includes('revealFileInOS'))
    return void (await vscode.commands.executeCommand('revealFileInOS', uri));
  const ws = workspaceRoot();
  const rel = ws ? relative(ws, dir) : '..';
  if (!rel.startsWith('..') && !rel.startsWith('/'))
    return void (await vscode.commands.executeCommand('revealInExplorer', uri));
  const card = join(dir, 'README.md');
  if (existsSync(card)) await vscode.window.showTextDocument(vscode.Uri.file(card), { preview: true });
}

export function registerRuns(d: CommandDeps): vscode.Disposable[] {
  const { training, log } = d;
  const exportModel = guarded(
    log,
    'localtune.exportModel',
    async (arg?: RunNode | string, opts?: unknown) => {
      const runDir = await pickRun(d.runs, arg ?? training.activeRun, 'export');
      if (!runDir) return undefined;
      const record = readRunRecord(runDir);
      const weights = await pickWeights(runDir, arg, 'export');
      if (!record || !weights) return undefined;
      const given = opts && typeof opts === 'object' && 'dtype' in opts ? (opts as ExportArgs) : undefined;
      const full = record.spec.mode === 'full';
      const dtype =
        given?.dtype ??
        (
          await vscode.window.showQuickPick(
            [
              { label: 'fp32', description: 'exact; the size of the base model', value: 'fp32' as const },
              {
                label: 'int8',
                description: 'weight-only 8-bit: ~4x smaller, faster on CPU',
                value: 'int8' as const,
              },
            ],
            { title: 'LocalTune: export precision' },
          )
        )?.value;
      if (!dtype) return undefined;
      const ws = workspaceRoot() ?? join(runDir, '..', '..', '..');
      const suggested = join(ws, '.localtune', 'exports', `${basename(runDir)}-${dtype}`);
      const outDir =
        given?.outDir ??
        (
          await vscode.window.showSaveDialog({
            defaultUri: vscode.Uri.file(suggested),
            title: `Export ${weightsLabel(weights)} as a model folder (${dtype})`,
            saveLabel: 'Export here',
          })
        )?.fsPath;
      if (!outDir) return undefined;
      const done = await training.exportModel({
        kind: 'export',
        // A full fine-tune's output is a whole model folder; LoRA merges the adapter into the base.
        modelDir: full ? weights.dir : record.spec.modelDir,
        adapterDir: full ? undefined : weights.dir,
        outDir,
        dtype,
      });
      if (!done) return undefined;
      const diff =
        done.maxLogitDiff === undefined
          ? ''
          : ` (max logit difference vs fp32: ${done.maxLogitDiff.toFixed(3)})`;
      void vscode.window
        .showInformationMessage(
          `LocalTune: exported a transformers.js model folder to ${done.outDir}${diff}.`,
          'Reveal',
        )
        .then((pick) => pick && revealFolder(done.outDir));
      return done.outDir;
    },
  );

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
      DashboardPanel.closeRun(runDir); // before the folder goes: a reload must not revive it
      rmSync(runDir, { recursive: true, force: true });
      d.runs.refresh();
      return true;
    }),
    command(log, 'localtune.renameRun', async (arg?: RunNode | string, name?: string) => {
      const runDir = await pickRun(d.runs, arg, 'rename', () => true);
      if (!runDir) return undefined;
      const before = readRunRecord(runDir);
      if (!before) {
        void vscode.window.showWarningMessage('LocalTune: this run has no run.json to hold a name.');
        return undefined;
      }
      const title =
        name ??
        (await vscode.window.showInputBox({
          title: 'Rename run',
          value: before.title,
          validateInput: (v) => (v.trim() ? undefined : 'A run needs a name.'),
        }));
      if (!title?.trim()) return undefined;
      writeRunRecord(runDir, { title: title.trim() });
      DashboardPanel.retitle(runDir, title.trim());
      d.runs.refresh();
      return title.trim();
    }),
  ];
}
