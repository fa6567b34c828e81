// Shared by LocalTune's e2e suites: the activated extension's API, fast training settings, starting
// a run without quick picks, and the marker that tells a suite it runs after the window reload.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import * as vscode from 'vscode';
import { readMetrics } from '../../../src/jobs/runs';
import type { JobOutcome } from '../../../src/jobs/trainJob';
import type { StartArgs } from '../../../src/vscode/commands/training';
import type { LocalTuneApi } from '../../../src/vscode/extension';
import { waitFor } from './helpers';

export async function localtune(): Promise<LocalTuneApi> {
  const ext = vscode.extensions.getExtension<LocalTuneApi>('localtune.localtune');
  if (!ext) throw new Error('extension localtune.localtune is not loaded');
  return ext.activate();
}

/** Written before the reload by zz-reload.e2e.ts; after it, the other LocalTune suites skip. */
export function reloadMarker(): string {
  return join(
    process.env.LOCALTUNE_E2E_WORKSPACE ?? vscode.workspace.workspaceFolders![0].uri.fsPath,
    '.localtune',
    'e2e-reload.json',
  );
}

export function afterReload(): boolean {
  return existsSync(reloadMarker());
}

/** Short sequences and frequent checkpoints and evals, so a step takes well under a second. */
export async function configureFastTraining(): Promise<void> {
  const c = vscode.workspace.getConfiguration('localtune');
  const t = vscode.ConfigurationTarget.Workspace;
  await c.update('training.seqLen', 32, t);
  await c.update('training.checkpointEvery', 2, t);
  await c.update('training.evalEvery', 4, t);
  await c.update('training.stopTimeoutSeconds', 60, t);
}

export async function startRun(args: StartArgs): Promise<string> {
  const runDir = await vscode.commands.executeCommand<string | undefined>('localtune.startFineTuning', args);
  if (!runDir) throw new Error(`Start fine-tuning did not start (${JSON.stringify(args)})`);
  return runDir;
}

export function waitForOutcome(api: LocalTuneApi, runDir: string, timeoutMs = 120_000): Promise<JobOutcome> {
  return waitFor(
    `the run ${runDir} to end`,
    () => api.training.outcomes.get(runDir),
    timeoutMs,
  ) as Promise<JobOutcome>;
}

/** The step and eval lines of a run's metrics.jsonl. */
export function stepsIn(runDir: string) {
  return readMetrics(runDir).filter((e) => e.type === 'step' || e.type === 'eval');
}
