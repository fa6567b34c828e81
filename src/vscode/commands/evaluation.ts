/**
 * "Evaluate": a run's tuned model against its base on the run's dataset (held-out files only), in
 * the forked worker with a cancellable progress notification. The figures go to the run's
 * dashboard; the samples open as a read-only document (`localtune-eval:` scheme) with each masked
 * span, what the developer wrote, and what the base and the tuned model wrote, side by side.
 */
import { basename } from 'node:path';
import * as vscode from 'vscode';
import type { EvalReport } from '../../eval/report';
import { samplesMarkdown } from '../../eval/samplesMarkdown';
import { evaluationTarget, runEvaluation } from '../../jobs/runEvaluation';
import { DashboardPanel } from '../dashboard/dashboardPanel';
import type { RunsTree } from '../trees/runsTree';
import { runWorkerTask } from '../workerTask';
import { pickRun, pickWeights } from './runPick';

export const SAMPLES_SCHEME = 'localtune-eval';

export interface EvaluationDeps {
  workerPath: string;
  log: vscode.LogOutputChannel;
  runs: RunsTree;
}

export function samplesUri(runDir: string): vscode.Uri {
  return vscode.Uri.from({
    scheme: SAMPLES_SCHEME,
    path: `/${basename(runDir)} — evaluation samples.md`,
    query: runDir,
  });
}

/**
 * Runs the evaluation in the worker; resolves to the report, or undefined (failed, cancelled).
 * `weightsDir`: one of the run's checkpoints instead of its final weights.
 */
export async function evaluateRun(
  d: Pick<EvaluationDeps, 'workerPath' | 'log'>,
  runDir: string,
  weightsDir?: string,
): Promise<EvalReport | undefined> {
  const target = evaluationTarget(runDir, weightsDir);
  if (typeof target === 'string') {
    void vscode.window.showWarningMessage(`LocalTune: cannot evaluate: ${target}`);
    return undefined;
  }
  if (!target.datasetDir) {
    void vscode.window.showWarningMessage(
      'LocalTune: this run trained on loose files, not a dataset folder, so there are no held-out files to evaluate on. Build a dataset and train on it.',
    );
    return undefined;
  }
  d.log.info(`evaluating ${target.adapterDir} against ${target.modelDir} on ${target.datasetDir}`);
  const report = await runWorkerTask<EvalReport>({
    workerPath: d.workerPath,
    job: {
      kind: 'eval',
      modelDir: target.modelDir,
      adapterDir: target.adapterDir,
      datasetDir: target.datasetDir,
    },
    log: d.log,
    title: 'LocalTune: evaluating',
    firstMessage: 'base model: validation loss…',
    failure: 'evaluation failed',
    result: (m) => (m.type === 'eval-done' ? m.report : undefined),
  });
  // The figures go to the dashboards whose own run it is (they show the final weights').
  if (report && !weightsDir) DashboardPanel.showEvaluation(runDir, report);
  return report;
}

/** The read-only samples document: the text comes from the run's eval.json each time it opens. */
export class EvalSamplesProvider implements vscode.TextDocumentContentProvider {
  private readonly changed = new vscode.EventEmitter<vscode.Uri>();
  readonly onDidChange = this.changed.event;

  refresh(runDir: string): void {
    this.changed.fire(samplesUri(runDir));
  }

  provideTextDocumentContent(uri: vscode.Uri): string {
    const report = runEvaluation(uri.query);
    return report
      ? samplesMarkdown(report)
      : `# No evaluation yet\n\nRun "LocalTune: Evaluate Against Base Model" on ${uri.query}.\n`;
  }
}

/**
 * The Evaluate and Show Evaluation Samples commands, the samples document's provider, and the
 * dashboard's Evaluate / Show samples buttons (the same handlers, for the dashboard's run).
 */
export function registerEvaluation(d: EvaluationDeps): vscode.Disposable[] {
  const samples = new EvalSamplesProvider();
  const showSamples = async (runDir: string) => {
    samples.refresh(runDir);
    DashboardPanel.revealRun(runDir);
    const doc = await vscode.workspace.openTextDocument(samplesUri(runDir));
    await vscode.languages.setTextDocumentLanguage(doc, 'markdown');
    // Beside the dashboard (or whatever the active group shows); into an empty group itself, or
    // a split would leave that group empty on the left.
    const besideSomething = vscode.window.tabGroups.activeTabGroup.tabs.length > 0;
    const viewColumn = besideSomething ? vscode.ViewColumn.Beside : vscode.ViewColumn.Active;
    await vscode.window.showTextDocument(doc, { preview: true, viewColumn });
  };
  const guard =
    (id: string, fn: (runDir: string, arg: unknown) => Promise<unknown>) => async (arg?: unknown) => {
      try {
        const runDir = await pickRun(d.runs, arg, 'evaluate');
        return runDir ? await fn(runDir, arg) : undefined;
      } catch (err) {
        d.log.error(`${id}: ${(err as Error).stack ?? err}`);
        void vscode.window.showErrorMessage(`LocalTune: ${(err as Error).message}`);
        return undefined;
      }
    };
  const evaluate = guard('localtune.evaluate', async (runDir, arg) => {
    const weights = await pickWeights(runDir, arg, 'evaluate');
    if (!weights) return undefined;
    const report = await evaluateRun(d, runDir, weights.kind === 'final' ? undefined : weights.dir);
    if ((report?.samples.length || report?.chat?.samples.length) && weights.kind === 'final')
      await showSamples(runDir);
    return report;
  });
  const showEvaluationSamples = guard('localtune.showEvaluationSamples', async (runDir) => {
    if (!runEvaluation(runDir)) return evaluate(runDir);
    return showSamples(runDir);
  });
  return [
    vscode.workspace.registerTextDocumentContentProvider(SAMPLES_SCHEME, samples),
    vscode.commands.registerCommand('localtune.evaluate', evaluate),
    vscode.commands.registerCommand('localtune.showEvaluationSamples', showEvaluationSamples),
    DashboardPanel.handle({ evaluate, showSamples: showEvaluationSamples }),
  ];
}
