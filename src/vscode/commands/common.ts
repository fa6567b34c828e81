/**
 * What every feature's commands share: the objects they act on (`CommandDeps`), the error wrapper
 * every command runs in, the workspace, and reading a command's argument (a tree node or a path).
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as vscode from 'vscode';
import type { TrainingController } from '../trainingController';
import type { DatasetNode, DatasetsTree } from '../trees/datasetsTree';
import type { ModelsTree } from '../trees/modelsTree';
import type { RunNode, RunsTree } from '../trees/runsTree';

export interface CommandDeps {
  context: vscode.ExtensionContext;
  training: TrainingController;
  datasets: DatasetsTree;
  runs: RunsTree;
  models: ModelsTree;
  log: vscode.LogOutputChannel;
  refresh(): void;
  /** Where hub downloads go. */
  downloadCache(): string;
}

/**
 * `fn` as a command handler: an error is logged with its stack and shown with "Show log", and the
 * command resolves to undefined. The dashboard's buttons call the same wrapped handlers.
 */
export function guarded<A extends unknown[], R>(
  log: vscode.LogOutputChannel,
  id: string,
  fn: (...args: A) => R | Promise<R>,
): (...args: A) => Promise<R | undefined> {
  return async (...args: A) => {
    try {
      return await fn(...args);
    } catch (err) {
      log.error(`${id}: ${(err as Error).stack ?? err}`);
      void vscode.window
        .showErrorMessage(`LocalTune: ${(err as Error).message}`, 'Show log')
        .then((p) => p && log.show());
      return undefined;
    }
  };
}

/** Registers the command `id` with `fn` wrapped by `guarded`. */
export function command<A extends unknown[], R>(
  log: vscode.LogOutputChannel,
  id: string,
  fn: (...args: A) => R | Promise<R>,
): vscode.Disposable {
  return vscode.commands.registerCommand(id, guarded(log, id, fn) as (...args: unknown[]) => unknown);
}

export function workspaceRoot(): string | undefined {
  return vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
}

export function needWorkspace(): string | undefined {
  const ws = workspaceRoot();
  if (!ws)
    void vscode.window.showWarningMessage(
      'LocalTune: open a folder first; datasets and runs live in its .localtune folder.',
    );
  return ws;
}

/** `.localtune/` with a .gitignore, so datasets and runs never end up in the user's commits. */
export function ensureLocaltuneDir(ws: string): void {
  const dir = join(ws, '.localtune');
  mkdirSync(dir, { recursive: true });
  const ignore = join(dir, '.gitignore');
  if (!existsSync(ignore)) writeFileSync(ignore, '# LocalTune datasets and runs: local artifacts\n*\n');
}

/** A command's run: a run folder, or a Runs view node. */
export function runDirOf(arg: unknown): string | undefined {
  if (typeof arg === 'string') return arg;
  const node = arg as RunNode | undefined;
  return node?.run?.runDir;
}

/** A command's dataset: a dataset folder, or a Datasets view node (a dataset, its source or file). */
export function datasetDirOf(arg: unknown): string | undefined {
  if (typeof arg === 'string') return arg;
  const node = arg as DatasetNode | undefined;
  if (node?.kind === 'dataset') return node.dir;
  if (node?.kind === 'source' || node?.kind === 'file') return node.dataset.dir;
  return undefined;
}
