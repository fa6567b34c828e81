/**
 * Jobs as the editor shows them: a training run (progress notification with Cancel, status bar
 * item, log channel, live events to the dashboard, an error notification naming the cause with
 * "Show log" when the worker fails), and the one-shot jobs: dataset build, export, dataset preview
 * (progress notification with Cancel).
 * All heavy work runs in the forked worker (`dist/worker/train.js`) through src/jobs.
 */
import { join } from 'node:path';
import * as vscode from 'vscode';
import type { TrainEvent } from '../engine/train/events';
import type { DatasetPreview } from '../jobs/datasetPreview';
import type { Calibration } from '../jobs/estimate';
import type { JobRequest, WorkerMessage } from '../jobs/protocol';
import { runEvaluation } from '../jobs/runEvaluation';
import { newRunId, readRunRecord, runsRoot, summarizeRun } from '../jobs/runs';
import { AttachedRun } from '../jobs/attachedRun';
import { DEFAULT_LEASE_MS } from '../jobs/runControl';
import {
  JobBusyError,
  TrainingSlot,
  type JobOutcome,
  type TrainingJob,
  type WorkerJob,
} from '../jobs/trainJob';
import type { TrainSpec } from '../jobs/trainSpec';
import { DashboardPanel } from './dashboard/dashboardPanel';
import { runWorkerTask } from './workerTask';
import { formatLoss } from './format';
import { settings } from './settings';

export interface TrainingHost {
  extensionUri: vscode.Uri;
  workerPath: string;
  log: vscode.LogOutputChannel;
  /** Called whenever runs or datasets change on disk. */
  onRunsChanged(): void;
}

export class TrainingController implements vscode.Disposable {
  private readonly status = vscode.window.createStatusBarItem(
    'localtune.training',
    vscode.StatusBarAlignment.Left,
    10,
  );
  private slots = new Map<string, TrainingSlot>();
  private current: { job: TrainingJob; runDir: string; title: string } | undefined;
  private datasetJob: WorkerJob | undefined;
  private readonly changed = new vscode.EventEmitter<void>();
  /** Fires when a training job starts or ends (tests and the views listen). */
  readonly onDidChangeJob = this.changed.event;
  private readonly ended = new vscode.EventEmitter<{ runDir: string; title: string; outcome: JobOutcome }>();
  /** Fires once a training job has ended and run.json says how (the end-of-run evaluation listens). */
  readonly onDidEndRun = this.ended.event;
  /** The last outcome per run folder (for tests: how did the job end). */
  readonly outcomes = new Map<string, JobOutcome>();

  constructor(private readonly host: TrainingHost) {
    this.status.name = 'LocalTune training';
  }

  /** The training worker's bundle (it also runs the one-shot jobs: evaluation, export). */
  get workerPath(): string {
    return this.host.workerPath;
  }

  get activeRun(): string | undefined {
    return this.current?.job.running ? this.current.runDir : undefined;
  }

  get activeJob(): TrainingJob | undefined {
    return this.current?.job.running ? this.current.job : undefined;
  }

  private slot(workspace: string): TrainingSlot {
    let s = this.slots.get(workspace);
    if (!s) this.slots.set(workspace, (s = TrainingSlot.forWorkspace(workspace)));
    return s;
  }

  /** Starts a new run (or continues `resumeOf`); shows the dashboard. Refuses a second job with a message. */
  start(
    workspace: string,
    spec: Omit<TrainSpec, 'outDir'> & { outDir?: string },
    title: string,
  ): string | undefined {
    const runDir = spec.outDir ?? join(runsRoot(workspace), newRunId());
    const full: TrainSpec = { ...spec, outDir: runDir };
    let job: TrainingJob;
    try {
      // Detached and leased: the worker outlives a window reload; this window follows it through
      // the run folder, and so does the window after a reload (reattach()).
      const pid = this.slot(workspace).startDetached(runDir, title, full, {
        workerPath: this.host.workerPath,
        leaseMs: DEFAULT_LEASE_MS,
      });
      job = this.follow(runDir, pid);
    } catch (err) {
      if (err instanceof JobBusyError) {
        void vscode.window.showWarningMessage(err.message, 'Show dashboard').then((pick) => {
          if (pick && this.current) this.showDashboard(this.current.runDir, this.current.title);
        });
        return undefined;
      }
      throw err;
    }
    this.current = { job, runDir, title };
    this.host.log.info(`training ${title} in ${runDir} (worker pid ${job.pid})`);
    this.host.onRunsChanged();
    this.changed.fire();
    void vscode.commands.executeCommand('setContext', 'localtune.training', true);
    this.showDashboard(runDir, title);
    this.watch(job, runDir, title);
    return runDir;
  }

  /**
   * After a window reload: follows the workspace's training worker that a window before it started
   * (it kept running, detached), so the status bar, the notifications and the dashboard go on live.
   */
  reattach(workspace: string): string | undefined {
    if (this.current?.job.running) return undefined;
    const found = this.slot(workspace).runningJob();
    if (!found) {
      this.endedUnwatched(workspace);
      return undefined;
    }
    const title = readRunRecord(found.runDir)?.title ?? found.runDir;
    const job = this.follow(found.runDir, found.pid);
    this.current = { job, runDir: found.runDir, title };
    this.host.log.info(`re-attached to ${title} in ${found.runDir} (worker pid ${found.pid})`);
    this.changed.fire();
    void vscode.commands.executeCommand('setContext', 'localtune.training', true);
    this.watch(job, found.runDir, title);
    return found.runDir;
  }

  /**
   * The last run ended while no window followed it (during a reload): it still gets its ending —
   * the end-of-run evaluation listens — unless it was evaluated already.
   */
  private endedUnwatched(workspace: string): void {
    const last = this.slot(workspace).lastJob();
    if (!last || this.outcomes.has(last.runDir)) return;
    const r = summarizeRun(last.runDir);
    if (r.status !== 'finished' || runEvaluation(last.runDir)) return;
    const outcome: JobOutcome = { status: 'finished' };
    const title = r.record?.title ?? r.id;
    this.outcomes.set(last.runDir, outcome);
    this.host.log.info(`${title} finished while no window followed it`);
    setTimeout(() => this.ended.fire({ runDir: last.runDir, title, outcome }), 0);
  }

  private follow(runDir: string, pid: number): AttachedRun {
    return new AttachedRun(runDir, pid, {
      stopTimeoutMs: settings().training.stopTimeoutSeconds * 1000,
      leaseMs: DEFAULT_LEASE_MS,
    });
  }

  /** Continues a stopped (or crashed) run from its newest checkpoint. */
  resume(workspace: string, runDir: string): string | undefined {
    const r = summarizeRun(runDir);
    const record = readRunRecord(runDir);
    if (!record) {
      void vscode.window.showErrorMessage(
        `LocalTune: ${runDir} has no run.json, so it cannot be resumed from the editor.`,
      );
      return undefined;
    }
    if (!r.resumable) {
      void vscode.window.showInformationMessage(
        r.status === 'finished'
          ? `LocalTune: ${record.title} has finished; nothing to resume.`
          : `LocalTune: ${record.title} has no checkpoint to resume from.`,
      );
      return undefined;
    }
    return this.start(workspace, { ...record.spec, outDir: runDir, resumeFrom: runDir }, record.title);
  }

  /** Graceful stop of the running job (SIGKILL after the configured timeout). */
  async stop(runDir?: string): Promise<JobOutcome | undefined> {
    const cur = this.current;
    if (!cur?.job.running || (runDir && runDir !== cur.runDir)) {
      void vscode.window.showInformationMessage('LocalTune: no fine-tuning job is running in this window.');
      return undefined;
    }
    this.host.log.info(`stopping ${cur.title}: finishing the step and writing a checkpoint`);
    this.status.text = '$(loading~spin) LocalTune: stopping…';
    return cur.job.stop();
  }

  showDashboard(runDir: string, title?: string): void {
    DashboardPanel.show(this.host.extensionUri, {
      runDir,
      title: title ?? readRunRecord(runDir)?.title ?? runDir,
    });
  }

  private watch(job: TrainingJob, runDir: string, title: string): void {
    let last: (TrainEvent & { type: 'step' }) | undefined;
    let best: number | null = null;
    const log = this.host.log;
    let report: ((step: TrainEvent & { type: 'step' }) => void) | undefined;
    const updateStatus = () => {
      const pct = last ? Math.floor((100 * last.step) / last.totalSteps) : 0;
      this.status.text = last
        ? `$(sync~spin) LocalTune ${last.step}/${last.totalSteps} · loss ${formatLoss(last.loss)}`
        : '$(sync~spin) LocalTune: starting…';
      this.status.tooltip = `${title}: ${pct}% — best validation loss ${formatLoss(best)}. Click for the dashboard.`;
      this.status.command = {
        command: 'localtune.showDashboard',
        title: 'Show training dashboard',
        arguments: [runDir],
      };
      this.status.show();
    };
    updateStatus();
    let lastStep = 0;
    job.onMessage((m: WorkerMessage) => {
      if (m.type === 'heartbeat') {
        DashboardPanel.forRun(runDir)?.post(m);
        return;
      }
      if (
        m.type === 'ready' ||
        m.type === 'dataset-done' ||
        m.type === 'export-done' ||
        m.type === 'eval-done' ||
        m.type === 'preview-done' ||
        m.type === 'calibrate-done' ||
        m.type === 'error'
      )
        return;
      const { v: _v, ...event } = m;
      if (event.type === 'step') lastStep = event.step;
      DashboardPanel.forRun(runDir)?.post(event);
      if (event.type === 'log') (event.level === 'warn' ? log.warn : log.info).call(log, event.message);
      else if (event.type === 'start')
        log.info(
          `${event.mode}: ${event.trainable} trainable parameters, ${event.trainWindows} windows of ${event.seqLen} tokens, steps ${event.startStep}→${event.totalSteps}`,
        );
      else if (event.type === 'step') {
        last = event;
        report?.(event);
        updateStatus();
        if (event.step % 10 === 0 || event.step === event.totalSteps)
          log.info(
            `step ${event.step}/${event.totalSteps} loss ${event.loss.toFixed(4)} ${Math.round(event.tokensPerSec)} tok/s`,
          );
      } else if (event.type === 'eval') {
        best = best === null ? event.evalLoss : Math.min(best, event.evalLoss);
        log.info(`eval at step ${event.step}: ${event.evalLoss.toFixed(4)}`);
        this.host.onRunsChanged();
      } else if (event.type === 'checkpoint') {
        log.info(`checkpoint ${event.dir}`);
        this.host.onRunsChanged();
      }
    });
    job.onStall((ms) => log.warn(`the worker has sent nothing for ${Math.round(ms / 1000)} s`));

    void vscode.window.withProgress(
      {
        location: vscode.ProgressLocation.Notification,
        title: `LocalTune: fine-tuning ${title}`,
        cancellable: true,
      },
      (progress, token) => {
        token.onCancellationRequested(() => void this.stop(runDir));
        let reported = 0;
        report = (e) => {
          const pct = (100 * e.step) / e.totalSteps;
          progress.report({
            message: `step ${e.step}/${e.totalSteps}, loss ${e.loss.toFixed(3)}`,
            increment: pct - reported,
          });
          reported = pct;
        };
        return job.outcome;
      },
    );

    void job.outcome.then((outcome) => {
      this.outcomes.set(runDir, outcome);
      if (this.current?.job === job) {
        this.status.hide();
        void vscode.commands.executeCommand('setContext', 'localtune.training', false);
      }
      // run.json is written by the slot in the same turn; refresh after it.
      setTimeout(() => {
        this.host.onRunsChanged();
        this.changed.fire();
        this.ended.fire({ runDir, title, outcome });
      }, 0);
      if (outcome.status === 'failed') {
        // The trainer never says it failed: tell the dashboard, so it stops showing "running".
        DashboardPanel.forRun(runDir)?.post({
          type: 'done',
          reason: 'failed',
          step: lastStep,
          outDir: runDir,
          finalDir: '',
          bestEvalLoss: null,
        });
        log.error(`${title} failed (${outcome.cause}): ${outcome.message}`);
        if (outcome.stderrTail) log.error(outcome.stderrTail);
        const what = outcome.cause === 'user' ? 'could not train' : 'training stopped unexpectedly';
        // Resume only where it can work: not after a failure on the run's own input.
        const canResume = outcome.cause !== 'user' && outcome.cause !== 'protocol';
        void vscode.window
          .showErrorMessage(
            `LocalTune: ${title} ${what}: ${outcome.message}`,
            'Show log',
            ...(canResume ? ['Resume'] : []),
          )
          .then((pick) => {
            if (pick === 'Show log') log.show();
            if (pick === 'Resume') void vscode.commands.executeCommand('localtune.resume', runDir);
          });
      } else {
        const done = outcome.done;
        log.info(`${title} ${outcome.status} at step ${done?.step}; ${done?.finalDir}`);
        // A finished run is announced with its verdict, after the end-of-run evaluation (onDidEndRun).
        if (outcome.status !== 'finished')
          void vscode.window.showInformationMessage(
            `LocalTune: ${title} stopped at step ${done?.step}; the checkpoint is kept and the run can be resumed.`,
          );
      }
    });
  }

  /**
   * Exports a merged model folder (transformers.js layout) in a worker, with a cancellable progress
   * notification; resolves to the folder, or undefined when it failed or was cancelled.
   */
  async exportModel(
    request: JobRequest & { kind: 'export' },
  ): Promise<{ outDir: string; maxLogitDiff?: number } | undefined> {
    this.host.log.info(
      `exporting ${request.modelDir}${request.adapterDir ? ` + ${request.adapterDir}` : ''} to ${request.outDir} (${request.dtype})`,
    );
    return runWorkerTask({
      workerPath: this.host.workerPath,
      job: request,
      log: this.host.log,
      title: `LocalTune: exporting (${request.dtype})`,
      firstMessage: 'merging the adapter and writing ONNX…',
      failure: 'the model could not be exported',
      result: (m) =>
        m.type === 'export-done' ? { outDir: m.outDir, maxLogitDiff: m.maxLogitDiff } : undefined,
    });
  }

  /** A few timed training steps of `spec` in the worker (the pre-flight estimate); undefined when it failed. */
  async calibrate(spec: TrainSpec): Promise<Calibration | undefined> {
    this.host.log.info(`measuring training steps of ${spec.modelDir} for the estimate`);
    return runWorkerTask({
      workerPath: this.host.workerPath,
      job: { kind: 'calibrate', spec },
      log: this.host.log,
      title: 'LocalTune: measuring a training step on this machine',
      firstMessage: 'loading the model…',
      failure: 'the estimate could not be measured',
      result: (m) => (m.type === 'calibrate-done' ? m.calibration : undefined),
    });
  }

  /** A dataset's summary and first samples, decoded in the worker; undefined when it failed. */
  async previewDataset(datasetDir: string, samples: number): Promise<DatasetPreview | undefined> {
    return runWorkerTask({
      workerPath: this.host.workerPath,
      job: { kind: 'preview', datasetDir, samples },
      log: this.host.log,
      title: 'LocalTune: reading dataset samples',
      firstMessage: 'decoding…',
      failure: 'the dataset could not be read',
      result: (m) => (m.type === 'preview-done' ? m.preview : undefined),
    });
  }

  /** Builds a dataset in the worker with a progress notification; resolves to the folder, or undefined. */
  async buildDataset(request: JobRequest & { kind: 'dataset' }): Promise<string | undefined> {
    if (this.datasetJob?.running) {
      void vscode.window.showWarningMessage(
        'LocalTune: a dataset is already being built; wait for it to finish.',
      );
      return undefined;
    }
    this.host.log.info(`building dataset ${request.outDir} from ${request.sources.join(', ')}`);
    const built = await runWorkerTask({
      workerPath: this.host.workerPath,
      job: request,
      log: this.host.log,
      title: 'LocalTune: building dataset',
      firstMessage: 'scanning, scrubbing and tokenizing…',
      failure: 'the dataset could not be built',
      result: (m) => (m.type === 'dataset-done' ? m.outDir : undefined),
      onJob: (job) => (this.datasetJob = job),
    });
    this.host.onRunsChanged();
    return built === undefined ? undefined : request.outDir;
  }

  /**
   * The window closes or reloads (VS Code does not say which): training goes on, detached. A reload
   * re-attaches within seconds; after a close nobody renews the lease and the worker stops by itself
   * with a checkpoint (runControl.ts).
   */
  dispose(): void {
    this.status.dispose();
    if (this.current?.job instanceof AttachedRun) this.current.job.detach();
    void this.datasetJob?.kill();
  }
}
