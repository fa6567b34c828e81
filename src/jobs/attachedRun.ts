/**
 * A training worker this host did not fork — one a window started before it reloaded — followed
 * through its run folder: new lines of metrics.jsonl become events, the pid says whether it lives,
 * Stop writes the stop file the trainer polls, and run.json says how it ended. While attached the
 * host holds the run's lease (runControl.ts), so the worker keeps going.
 */
import { closeSync, openSync, readFileSync, readSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { TrainEvent } from '../engine/train/events';
import { PROTOCOL_VERSION, tag, type WorkerMessage } from './protocol';
import { HostLease, requestStop, WORKER_LOG } from './runControl';
import { isProcessAlive, METRICS_FILE, readRunRecord, summarizeRun } from './runs';
import { logTail, type JobOutcome, type TrainingJob } from './trainJob';

type Listener<T> = (value: T) => void;

const HEARTBEAT_MS = 2000;

export interface AttachOptions {
  /** How often the folder and the pid are read (default 500 ms). */
  pollMs?: number;
  /** How long a stop may take before SIGKILL (default 30 s). */
  stopTimeoutMs?: number;
  leaseMs?: number;
}

export class AttachedRun implements TrainingJob {
  readonly outcome: Promise<JobOutcome>;
  private readonly listeners = new Set<Listener<WorkerMessage>>();
  private readonly lease: HostLease;
  private readonly timer: NodeJS.Timeout;
  /** Bytes of metrics.jsonl already read (what was there on attach is history, not news). */
  private offset: number;
  private partial = '';
  private exited = false;
  private stopTimer: NodeJS.Timeout | undefined;
  private settle!: (o: JobOutcome) => void;
  private lastHeartbeat = 0;

  constructor(
    readonly runDir: string,
    readonly pid: number,
    private readonly o: AttachOptions = {},
  ) {
    this.lease = new HostLease(runDir, o.leaseMs);
    this.offset = fileSize(join(runDir, METRICS_FILE));
    this.outcome = new Promise((resolve) => (this.settle = resolve));
    this.timer = setInterval(() => this.poll(), o.pollMs ?? 500);
  }

  get running(): boolean {
    return !this.exited;
  }

  onMessage(l: Listener<WorkerMessage>): () => void {
    this.listeners.add(l);
    return () => this.listeners.delete(l);
  }

  /** The folder has no heartbeat to miss: a stalled worker shows as steps that stop coming. */
  onStall(): () => void {
    return () => {};
  }

  stop(): Promise<JobOutcome> {
    if (!this.exited && !this.stopTimer) {
      requestStop(this.runDir);
      this.stopTimer = setTimeout(() => {
        try {
          process.kill(this.pid, 'SIGKILL');
        } catch {
          // already gone
        }
      }, this.o.stopTimeoutMs ?? 30_000);
      this.stopTimer.unref();
    }
    return this.outcome;
  }

  /** Stops following the folder (the worker goes on until its lease lapses). */
  detach(): void {
    clearInterval(this.timer);
    this.lease.dispose();
  }

  private poll(): void {
    const alive = isProcessAlive(this.pid);
    this.readNewLines();
    if (alive) return this.heartbeat();
    this.exited = true;
    this.detach();
    if (this.stopTimer) clearTimeout(this.stopTimer);
    this.settle(this.ending());
  }

  private readNewLines(): void {
    const path = join(this.runDir, METRICS_FILE);
    const size = fileSize(path);
    if (size < this.offset) this.offset = 0; // rewritten (a resume drops later metrics)
    if (size === this.offset) return;
    const fd = openSync(path, 'r');
    try {
      const buf = Buffer.alloc(size - this.offset);
      readSync(fd, buf, 0, buf.length, this.offset);
      this.offset = size;
      const lines = (this.partial + buf.toString('utf8')).split('\n');
      this.partial = lines.pop() ?? '';
      for (const line of lines) {
        if (!line.trim()) continue;
        try {
          this.emit(tag(JSON.parse(line) as TrainEvent));
        } catch {
          // not an event line
        }
      }
    } finally {
      closeSync(fd);
    }
  }

  /** The worker's memory for the dashboard, as its heartbeat reported it over IPC (Linux: /proc). */
  private heartbeat(): void {
    const now = Date.now();
    if (now - this.lastHeartbeat < HEARTBEAT_MS) return;
    this.lastHeartbeat = now;
    try {
      const kib = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${this.pid}/status`, 'utf8'))?.[1];
      if (kib) this.emit(tag({ type: 'heartbeat', rss: Number(kib) * 1024, heapUsed: 0, uptime: 0 }));
    } catch {
      // no /proc here: the dashboard shows no memory figure
    }
  }

  private emit(m: WorkerMessage): void {
    for (const l of this.listeners) l(m);
  }

  /** How the run ended, as its run folder tells it; the trainer's `done` event is rebuilt from it. */
  private ending(): JobOutcome {
    const record = readRunRecord(this.runDir);
    const r = summarizeRun(this.runDir);
    if (record?.status === 'finished' || record?.status === 'stopped') {
      const done: TrainEvent & { type: 'done' } = {
        type: 'done',
        step: r.step,
        reason: record.status,
        outDir: this.runDir,
        finalDir: record.finalDir ?? '',
        bestEvalLoss: r.bestEvalLoss,
      };
      this.emit({ v: PROTOCOL_VERSION, ...done });
      return { status: record.status, done };
    }
    return {
      status: 'failed',
      cause: record?.error?.cause ?? 'killed',
      message:
        record?.error?.message ??
        'the worker ended without recording how (killed, or out of memory); the last checkpoint is kept',
      exitCode: null,
      signal: null,
      stderrTail: logTail(join(this.runDir, WORKER_LOG)),
    };
  }
}

function fileSize(path: string): number {
  try {
    return statSync(path).size;
  } catch {
    return 0;
  }
}
