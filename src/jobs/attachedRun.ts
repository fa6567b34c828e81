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
import { EVENTS_FILE, HostLease, requestStop, WORKER_LOG } from './runControl';
import { isProcessAlive, METRICS_FILE, readRunRecord, summarizeRun, writeRunRecord } from './runs';
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
  /** metrics.jsonl and events.jsonl: bytes already read (what was there on attach is history, not news). */
  private readonly tails: { path: string; offset: number; partial: string }[];
  /** The trainer's own `done`, when events.jsonl brought it. */
  private done: (TrainEvent & { type: 'done' }) | undefined;
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
    this.tails = [METRICS_FILE, EVENTS_FILE].map((f) => {
      const path = join(runDir, f);
      return { path, offset: fileSize(path), partial: '' };
    });
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
    for (const t of this.tails) {
      const size = fileSize(t.path);
      if (size < t.offset) t.offset = 0; // rewritten (a resume drops later metrics)
      if (size === t.offset) continue;
      const fd = openSync(t.path, 'r');
      try {
        const buf = Buffer.alloc(size - t.offset);
        readSync(fd, buf, 0, buf.length, t.offset);
        t.offset = size;
        const lines = (t.partial + buf.toString('utf8')).split('\n');
        t.partial = lines.pop() ?? '';
        for (const line of lines) {
          if (!line.trim()) continue;
          let e: TrainEvent;
          try {
            e = JSON.parse(line) as TrainEvent;
          } catch {
            continue; // not an event line
          }
          if (e.type === 'done') this.done = e;
          this.emit(tag(e));
        }
      } finally {
        closeSync(fd);
      }
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
    if (this.done && this.done.reason !== 'failed') return { status: this.done.reason, done: this.done };
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
    const error = record?.error ?? {
      cause: 'killed' as const,
      message:
        'the worker was killed (out of memory, or ended by another program); the last checkpoint is kept',
    };
    // It died without a word: run.json says so, for the Runs view and for the next window.
    if (record?.status === 'running') writeRunRecord(this.runDir, { status: 'failed', error });
    return {
      status: 'failed',
      cause: error.cause,
      message: error.message,
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
