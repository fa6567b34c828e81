/**
 * A one-shot job in the forked worker (dataset build, export, evaluation) behind a cancellable
 * progress notification: log lines go to the log channel and the notification, a failure shows an
 * error naming the cause with "Show log". Heavy work never runs in the extension host.
 */
import * as vscode from 'vscode';
import type { JobRequest, WorkerMessage } from '../jobs/protocol';
import { WorkerJob } from '../jobs/trainJob';

export interface WorkerTask<T> {
  workerPath: string;
  job: JobRequest;
  log: vscode.LogOutputChannel;
  /** Notification title, e.g. "LocalTune: exporting (int8)". */
  title: string;
  /** Shown until the worker says more. */
  firstMessage: string;
  /** For the error: "LocalTune: <failure>: <cause>", e.g. "the model could not be exported". */
  failure: string;
  /** Picks the job's result out of the worker's messages. */
  result: (m: WorkerMessage) => T | undefined;
  /** Called with the job once it exists (e.g. to kill it when the window closes). */
  onJob?: (job: WorkerJob) => void;
}

/** Resolves to the job's result, or undefined when it failed (reported) or was cancelled. */
export async function runWorkerTask<T>(t: WorkerTask<T>): Promise<T | undefined> {
  const job = new WorkerJob({ workerPath: t.workerPath, job: t.job });
  t.onJob?.(job);
  let result: T | undefined;
  let cancelled = false;
  const outcome = await vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title: t.title, cancellable: true },
    (progress, token) => {
      token.onCancellationRequested(() => {
        cancelled = true;
        void job.kill();
      });
      job.onMessage((m) => {
        if (m.type === 'log') {
          (m.level === 'warn' ? t.log.warn : t.log.info).call(t.log, m.message);
          progress.report({ message: m.message.slice(0, 80) });
        }
        result = t.result(m) ?? result;
      });
      progress.report({ message: t.firstMessage });
      return job.outcome;
    },
  );
  if (outcome.status !== 'failed') return result;
  if (cancelled) {
    t.log.info(`${t.title}: cancelled`);
    return undefined;
  }
  t.log.error(`${t.title} failed (${outcome.cause}): ${outcome.message}`);
  if (outcome.stderrTail) t.log.error(outcome.stderrTail);
  void vscode.window
    .showErrorMessage(`LocalTune: ${t.failure}: ${outcome.message}`, 'Show log')
    .then((p) => p && t.log.show());
  return undefined;
}
