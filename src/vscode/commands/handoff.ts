/**
 * Handing a run to a GPU trainer and bringing it back (docs/handoff.md): "Train Elsewhere…" (the
 * Fine-tune form's button, with the form's run) writes the job for Axolotl or TRL into
 * `.localtune/handoff/`; "Import Run…" (the Runs view) makes what the engine saved a run. Both run
 * in the hand-off worker.
 */
import { join } from 'node:path';
import * as vscode from 'vscode';
import { runHandoff } from '../../jobs/handoff/handoffWorker';
import { ENGINE_VERSIONS, type Engine } from '../../jobs/handoff/versions';
import { newRunId, runsRoot } from '../../jobs/runs';
import type { TrainSpec } from '../../jobs/trainSpec';
import { command, ensureLocaltuneDir, needWorkspace, type CommandDeps } from './common';

/** What scripts and tests pass instead of answering the pick and the folder dialog. */
export interface HandoffArgs {
  engine?: Engine;
  outDir?: string;
  /** Import: the job folder the engine trained in. */
  dir?: string;
}

export function registerHandoff(d: CommandDeps): vscode.Disposable[] {
  const workerPath = d.context.asAbsolutePath(join('dist', 'worker', 'handoff.js'));
  const inProgress = <T>(title: string, work: () => Promise<T>) =>
    vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title }, work);

  return [
    command(
      d.log,
      'localtune.trainElsewhere',
      async (spec?: TrainSpec, title?: string, args: HandoffArgs = {}) => {
        const ws = needWorkspace();
        if (!ws) return undefined;
        // From the palette: the form holds the run to hand off, and its button comes back here.
        if (!spec?.modelDir) return void (await vscode.commands.executeCommand('localtune.startFineTuning'));
        const engine =
          args.engine ??
          (
            await vscode.window.showQuickPick(
              [
                {
                  label: 'Axolotl',
                  description: `${ENGINE_VERSIONS.axolotl}: job.yml`,
                  engine: 'axolotl' as const,
                },
                {
                  label: 'TRL',
                  description: `${ENGINE_VERSIONS.trl}: train.py (SFTTrainer + PEFT)`,
                  engine: 'trl' as const,
                },
              ],
              { title: 'Train elsewhere: which trainer runs the job?' },
            )
          )?.engine;
        if (!engine) return undefined;
        ensureLocaltuneDir(ws);
        const name = (title ?? 'run').replace(/[^\w.-]+/g, '-');
        const outDir = args.outDir ?? join(ws, '.localtune', 'handoff', `${name}-${engine}-${newRunId()}`);
        const reply = await inProgress(`LocalTune: writing the ${engine} job`, () =>
          runHandoff(workerPath, { type: 'export', spec, engine, outDir }),
        );
        if (reply.type !== 'exported') return undefined;
        d.log.info(
          `hand-off job for ${engine} in ${reply.dir} (${reply.identical}/${reply.documents} documents exact)`,
        );
        void vscode.window
          .showInformationMessage(
            `LocalTune: the ${engine} job is in ${reply.dir}; its README says how to launch it.`,
            'Open README',
          )
          .then((p) => p && vscode.window.showTextDocument(vscode.Uri.file(join(reply.dir, 'README.md'))));
        return reply.dir;
      },
    ),

    command(d.log, 'localtune.importRun', async (args: HandoffArgs = {}) => {
      const ws = needWorkspace();
      if (!ws) return undefined;
      const dir =
        args.dir ??
        (
          await vscode.window.showOpenDialog({
            canSelectFolders: true,
            canSelectFiles: false,
            title: 'Import run: the job folder the engine trained in (or its output folder)',
            openLabel: 'Import',
          })
        )?.[0]?.fsPath;
      if (!dir) return undefined;
      ensureLocaltuneDir(ws);
      const runDir = args.outDir ?? join(runsRoot(ws), newRunId());
      const reply = await inProgress('LocalTune: importing the run', () =>
        runHandoff(workerPath, { type: 'import', dir, runDir }),
      );
      if (reply.type !== 'imported') return undefined;
      d.refresh();
      d.log.info(
        `imported ${dir} as ${runDir}: ${reply.run.steps} steps, ${reply.run.evaluations} evaluations`,
      );
      void vscode.commands.executeCommand('localtune.showDashboard', runDir);
      return runDir;
    }),
  ];
}
