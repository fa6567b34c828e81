/**
 * What keeps the views current and the log at hand: a watcher on the run and dataset folders
 * (other windows and the CLI change them too), a settings change, Refresh, and Show Log.
 */
import * as vscode from 'vscode';
import { command, type CommandDeps } from './common';

export function registerGeneral(d: CommandDeps): vscode.Disposable[] {
  const { log } = d;
  // Runs change on disk (other windows, the CLI): watch the run folders.
  const watcher = vscode.workspace.createFileSystemWatcher(
    '**/.localtune/{runs/*/run.json,runs/*/checkpoints/*,datasets/*/manifest.json}',
  );
  return [
    watcher,
    watcher.onDidChange(() => d.runs.refresh()),
    watcher.onDidCreate(() => d.refresh()),
    watcher.onDidDelete(() => d.refresh()),
    vscode.workspace.onDidChangeConfiguration((e) => e.affectsConfiguration('localtune') && d.refresh()),
    command(log, 'localtune.refresh', () => d.refresh()),
    command(log, 'localtune.showLog', () => log.show()),
  ];
}
