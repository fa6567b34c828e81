/**
 * The host side of a worker job (no vscode import): forks the worker with glibc tuned to keep freed
 * memory, sends `start`, routes typed messages to listeners, stops gracefully (then SIGKILL after a
 * timeout), and turns every way a worker can end into one `JobOutcome` that names the cause.
 * `TrainingSlot` keeps one training job per workspace, across windows (a lock file with the pid).
 */
import type { ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { TrainEvent } from '../engine/train/events';
import { forkWorker } from './fork';
import {
  isWorkerMessage,
  PROTOCOL_VERSION,
  tag,
  type ErrorCause,
  type JobRequest,
  type WorkerMessage,
} from './protocol';
import { isProcessAlive, writeRunRecord } from './runs';
import { startDetachedTraining, touchLease } from './runControl';
import type { TrainSpec } from './trainSpec';

export { WORKER_ENV } from './fork';

export type FailureCause = ErrorCause | 'crash' | 'killed' | 'stop-timeout';

export type JobOutcome =
  | { status: 'finished' | 'stopped'; done?: TrainEvent & { type: 'done' } }
  | {
      status: 'failed';
      cause: FailureCause;
      /** For the user: what happened, in one sentence. */
      message: string;
      exitCode: number | null;
      signal: NodeJS.Signals | null;
      /** The worker's last stderr lines (a native crash prints there). */
      stderrTail: string;
    };

export interface WorkerJobOptions {
  /** The bundled worker (dist/worker/train.js), or its TypeScript source (run through tsx). */
  workerPath: string;
  job: JobRequest;
  execArgv?: string[];
  env?: NodeJS.ProcessEnv;
  /** How long a graceful stop may take before SIGKILL (default 30 s). */
  stopTimeoutMs?: number;
  /** Silence after which listeners hear `onStall` (default 60 s; the worker heartbeats every 2 s). */
  stallMs?: number;
  /** Run detached, its output appended to this file (fork.ts). */
  detachedLog?: string;
}

type Listener<T> = (value: T) => void;

/**
 * A training job as the editor watches it: one this host forked (`WorkerJob`), or one it
 * re-attached to after a window reload (`AttachedRun`, which follows the run folder).
 */
export interface TrainingJob {
  readonly pid: number | undefined;
  readonly outcome: Promise<JobOutcome>;
  readonly running: boolean;
  onMessage(l: Listener<WorkerMessage>): () => void;
  onStall(l: Listener<number>): () => void;
  stop(): Promise<JobOutcome>;
}

export class WorkerJob implements TrainingJob {
  readonly pid: number | undefined;
  /** Resolves once the worker has exited, however it ended. */
  readonly outcome: Promise<JobOutcome>;
  private readonly child: ChildProcess;
  private readonly messageListeners = new Set<Listener<WorkerMessage>>();
  private readonly stallListeners = new Set<Listener<number>>();
  private readonly stderrLines: string[] = [];
  private done: (TrainEvent & { type: 'done' }) | undefined;
  /** A one-shot job (dataset build, export, evaluation, preview) reported its result. */
  private resultDone = false;
  private error: { cause: ErrorCause; message: string } | undefined;
  private stopTimer: NodeJS.Timeout | undefined;
  private stopTimedOut = false;
  private lastMessageAt = Date.now();
  private readonly watchdog: NodeJS.Timeout;
  private exited = false;

  constructor(private readonly o: WorkerJobOptions) {
    this.child = forkWorker(o.workerPath, { env: o.env, execArgv: o.execArgv, detachedLog: o.detachedLog });
    this.pid = this.child.pid;
    this.child.stderr?.setEncoding('utf8').on('data', (chunk: string) => this.keepStderr(chunk));
    this.child.stdout?.setEncoding('utf8').on('data', (chunk: string) => this.keepStderr(chunk));
    this.child.on('message', (m) => this.receive(m));
    const stallMs = o.stallMs ?? 60_000;
    this.watchdog = setInterval(
      () => {
        const silent = Date.now() - this.lastMessageAt;
        if (silent >= stallMs) for (const l of this.stallListeners) l(silent);
      },
      Math.min(stallMs, 10_000),
    );
    this.watchdog.unref();
    this.outcome = new Promise((resolveOutcome) => {
      this.child.on('error', (err) => this.keepStderr(`${err.message}\n`));
      this.child.on('exit', (code, signal) => {
        this.exited = true;
        clearInterval(this.watchdog);
        if (this.stopTimer) clearTimeout(this.stopTimer);
        resolveOutcome(this.settle(code, signal));
      });
    });
    this.send({ type: 'start', job: o.job });
  }

  /** Every protocol message from the worker, in order. Returns an unsubscribe function. */
  onMessage(l: Listener<WorkerMessage>): () => void {
    this.messageListeners.add(l);
    return () => this.messageListeners.delete(l);
  }

  /** Called with the silent time when the worker has said nothing for `stallMs`. */
  onStall(l: Listener<number>): () => void {
    this.stallListeners.add(l);
    return () => this.stallListeners.delete(l);
  }

  get running(): boolean {
    return !this.exited;
  }

  /** Graceful stop: the worker finishes its step and writes a checkpoint; SIGKILL after the timeout. */
  stop(): Promise<JobOutcome> {
    if (!this.exited && !this.stopTimer) {
      this.send({ type: 'stop' });
      this.stopTimer = setTimeout(() => {
        this.stopTimedOut = true;
        this.child.kill('SIGKILL');
      }, this.o.stopTimeoutMs ?? 30_000);
    }
    return this.outcome;
  }

  /** Ends the worker at once (no checkpoint). */
  kill(): Promise<JobOutcome> {
    if (!this.exited) this.child.kill('SIGKILL');
    return this.outcome;
  }

  private send(m: { type: 'start'; job: JobRequest } | { type: 'stop' }): void {
    if (this.child.connected) this.child.send(tag(m));
  }

  private receive(m: unknown): void {
    this.lastMessageAt = Date.now();
    if (!isWorkerMessage(m)) return;
    if (m.v !== PROTOCOL_VERSION) {
      this.error = {
        cause: 'protocol',
        message: `the worker speaks protocol v${m.v}, the extension v${PROTOCOL_VERSION}: reinstall LocalTune`,
      };
      this.child.kill('SIGKILL');
      return;
    }
    if (m.type === 'done') this.done = m;
    else if (
      m.type === 'dataset-done' ||
      m.type === 'export-done' ||
      m.type === 'eval-done' ||
      m.type === 'preview-done' ||
      m.type === 'calibrate-done'
    )
      this.resultDone = true;
    else if (m.type === 'error') this.error = { cause: m.cause, message: m.message };
    if (m.type === 'error' && m.stack) this.keepStderr(m.stack + '\n');
    for (const l of this.messageListeners) l(m);
  }

  private keepStderr(chunk: string): void {
    this.stderrLines.push(...chunk.split('\n').filter(Boolean));
    if (this.stderrLines.length > 60) this.stderrLines.splice(0, this.stderrLines.length - 60);
  }

  private settle(exitCode: number | null, signal: NodeJS.Signals | null): JobOutcome {
    if (this.done && this.done.reason !== 'failed') return { status: this.done.reason, done: this.done };
    if (this.resultDone && !this.error) return { status: 'finished' };
    const failed = (cause: FailureCause, message: string): JobOutcome => ({
      status: 'failed',
      cause,
      message,
      exitCode,
      signal,
      stderrTail: this.o.detachedLog ? logTail(this.o.detachedLog) : this.stderrLines.join('\n'),
    });
    if (this.error) return failed(this.error.cause, this.error.message);
    if (this.stopTimedOut)
      return failed(
        'stop-timeout',
        `the worker did not stop within ${Math.round((this.o.stopTimeoutMs ?? 30_000) / 1000)} s and was killed; the last checkpoint is kept`,
      );
    if (signal === 'SIGKILL')
      return failed(
        'killed',
        'the worker was killed (SIGKILL: out of memory, or ended by another program); the last checkpoint is kept',
      );
    if (signal) return failed('crash', `the worker crashed (${signal}); the last checkpoint is kept`);
    return failed(
      'crash',
      `the worker exited with code ${exitCode} before finishing; the last checkpoint is kept`,
    );
  }
}

/** Thrown when a second training job is asked for while one runs. */
export class JobBusyError extends Error {
  override readonly name = 'JobBusyError';
}

interface LockFile {
  pid: number;
  hostPid: number;
  runDir: string;
}

/**
 * One training job per workspace. Within a window the slot holds the job; across windows a lock
 * file (`.localtune/train.lock`) names the worker's pid, and a lock whose worker is gone is stale.
 */
export class TrainingSlot {
  private current: { job: WorkerJob; runDir: string } | undefined;

  constructor(
    private readonly lockPath: string,
    /** This window's process (tests pretend to be another window). */
    private readonly hostPid = process.pid,
  ) {}

  static forWorkspace(workspace: string): TrainingSlot {
    return new TrainingSlot(join(workspace, '.localtune', 'train.lock'));
  }

  get active(): { job: WorkerJob; runDir: string } | undefined {
    return this.current?.job.running ? this.current : undefined;
  }

  /** The run another window (or a lost host) trains right now, if any. */
  foreignRun(): string | undefined {
    try {
      const lock = JSON.parse(readFileSync(this.lockPath, 'utf8')) as LockFile;
      if (lock.hostPid !== this.hostPid && isProcessAlive(lock.pid)) return lock.runDir;
    } catch {
      // no lock, or a torn one
    }
    return undefined;
  }

  /** The workspace's running job as its lock names it (a window before a reload started it), if alive. */
  runningJob(): { runDir: string; pid: number } | undefined {
    const last = this.lastJob();
    return last && isProcessAlive(last.pid) ? last : undefined;
  }

  /** The workspace's last training job, running or not, as its lock names it. */
  lastJob(): { runDir: string; pid: number } | undefined {
    try {
      const lock = JSON.parse(readFileSync(this.lockPath, 'utf8')) as LockFile;
      return { runDir: lock.runDir, pid: lock.pid };
    } catch {
      return undefined; // no lock, or a torn one
    }
  }

  /**
   * Starts a training job for `runDir` and records it in run.json, or throws JobBusyError.
   * run.json is kept current as the job ends, whoever watches it.
   */
  start(runDir: string, title: string, spec: TrainSpec, o: Omit<WorkerJobOptions, 'job'>): WorkerJob {
    this.refuseIfBusy();
    const job = new WorkerJob({ ...o, job: { kind: 'train', spec } });
    this.current = { job, runDir };
    writeRunRecord(runDir, { title, spec, status: 'running', pid: job.pid });
    this.lock(job.pid ?? 0, runDir);
    void job.outcome.then((outcome) => {
      if (outcome.status === 'failed')
        writeRunRecord(runDir, {
          status: 'failed',
          error: { cause: toRecordCause(outcome.cause), message: outcome.message },
        });
      else
        writeRunRecord(runDir, {
          status: outcome.status,
          finalDir: outcome.done?.finalDir,
          finalIs: outcome.done?.finalIs,
          bestStep: outcome.done?.bestStep,
        });
      if (this.current?.job === job) rmSync(this.lockPath, { force: true });
    });
    return job;
  }

  /**
   * Starts a training worker that outlives this host (runControl.ts: outside its process tree,
   * leased, followed through the run folder) and records it; returns its pid. The worker writes
   * run.json as it ends; follow it with AttachedRun.
   */
  startDetached(
    runDir: string,
    title: string,
    spec: TrainSpec,
    o: { workerPath: string; leaseMs: number; env?: NodeJS.ProcessEnv; execArgv?: string[] },
  ): number {
    this.refuseIfBusy();
    writeRunRecord(runDir, { title, spec, status: 'running' });
    touchLease(runDir); // held from the start: the worker must not find a lapsed lease
    const pid = startDetachedTraining(o.workerPath, runDir, o);
    writeRunRecord(runDir, { pid });
    this.lock(pid, runDir);
    return pid;
  }

  private refuseIfBusy(): void {
    const busy = this.active?.runDir ?? this.runningJob()?.runDir;
    if (busy)
      throw new JobBusyError(
        `A fine-tuning job is already running in this workspace (${busy.split(/[\\/]/).pop()}). Stop it first, or wait for it to finish.`,
      );
  }

  private lock(pid: number, runDir: string): void {
    mkdirSync(dirname(this.lockPath), { recursive: true });
    writeFileSync(this.lockPath, JSON.stringify({ pid, hostPid: this.hostPid, runDir } satisfies LockFile));
  }
}

/** The last lines of a detached worker's log file. */
export function logTail(path: string, lines = 60): string {
  try {
    return readFileSync(path, 'utf8').split('\n').filter(Boolean).slice(-lines).join('\n');
  } catch {
    return '';
  }
}

function toRecordCause(c: FailureCause): ErrorCause | 'crash' | 'killed' {
  return c === 'stop-timeout' ? 'killed' : c;
}
