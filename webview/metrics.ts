/**
 * A run's metrics in columns: parsed from `metrics.jsonl` (one TrainEvent per line) and grown by
 * live events. Pure: no DOM, no Node; the webview draws from it.
 */
import type { DashboardEvent } from './protocol';

/** Parses metrics.jsonl text; a line that is not JSON (a write cut short by a crash) is skipped. */
export function parseMetrics(text: string): { events: DashboardEvent[]; skipped: number } {
  const events: DashboardEvent[] = [];
  let skipped = 0;
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    try {
      const e = JSON.parse(line) as DashboardEvent;
      if (e && typeof e === 'object' && typeof e.type === 'string') events.push(e);
      else skipped++;
    } catch {
      skipped++;
    }
  }
  return { events, skipped };
}

export type RunStatus = 'empty' | 'running' | 'stopped' | 'finished' | 'failed';

/** Index of the first element of sorted `xs` that is >= x. */
export function lowerBound(xs: ArrayLike<number>, x: number, from = 0, to = xs.length): number {
  while (from < to) {
    const mid = (from + to) >>> 1;
    if (xs[mid] < x) from = mid + 1;
    else to = mid;
  }
  return from;
}

/** One run's full data (never downsampled: the CSV and zooming read it). */
export class RunSeries {
  readonly step: number[] = [];
  readonly loss: number[] = [];
  readonly lr: number[] = [];
  readonly gradNorm: number[] = [];
  readonly tokens: number[] = [];
  readonly tokensPerSec: number[] = [];
  readonly elapsed: number[] = [];
  readonly evalStep: number[] = [];
  readonly evalLoss: number[] = [];
  totalSteps = 0;
  /** Worker RSS in bytes from the last heartbeat, when one came. */
  memoryBytes: number | undefined;
  /** What the last lifecycle event said; undefined when only history is known. */
  private lifecycle: 'running' | 'finished' | 'stopped' | 'failed' | undefined;

  constructor(
    readonly runDir: string,
    public title: string,
  ) {}

  get points(): number {
    return this.step.length + this.evalStep.length;
  }

  get lastStep(): number {
    const s = this.step.length ? this.step[this.step.length - 1] : -1;
    const e = this.evalStep.length ? this.evalStep[this.evalStep.length - 1] : -1;
    return Math.max(s, e);
  }

  get status(): RunStatus {
    if (this.lifecycle) return this.lifecycle;
    if (this.points === 0) return 'empty';
    return this.totalSteps > 0 && this.lastStep >= this.totalSteps ? 'finished' : 'stopped';
  }

  /**
   * Adds one event. `live` events (received while the run goes on) also set the status. A step at
   * or before the last one means the run was resumed from an earlier checkpoint (the trainer drops
   * the later metrics then) or the event was already seen: the columns are cut back to before it.
   */
  add(e: DashboardEvent, live: boolean): void {
    switch (e.type) {
      case 'step': {
        this.cutFrom(e.step, true);
        this.step.push(e.step);
        this.loss.push(e.loss);
        this.lr.push(e.lr);
        this.gradNorm.push(e.gradNorm);
        this.tokens.push(e.tokens);
        this.tokensPerSec.push(e.tokensPerSec);
        this.elapsed.push(e.elapsed);
        this.totalSteps = e.totalSteps;
        if (live) this.lifecycle = 'running';
        break;
      }
      case 'eval':
        this.cutFrom(e.step, false);
        this.evalStep.push(e.step);
        this.evalLoss.push(e.evalLoss);
        break;
      case 'start':
        this.totalSteps = e.totalSteps;
        if (live) this.lifecycle = 'running';
        break;
      case 'done':
        if (live) this.lifecycle = e.reason;
        break;
      case 'heartbeat':
        this.memoryBytes = e.rss;
        break;
    }
  }

  addAll(events: DashboardEvent[], live: boolean): void {
    for (const e of events) this.add(e, live);
  }

  /** Drops evals at or after `step`, and with `steps` also the step rows at or after it. */
  private cutFrom(step: number, steps: boolean): void {
    if (steps && this.step.length && this.step[this.step.length - 1] >= step) {
      const n = lowerBound(this.step, step);
      for (const col of [
        this.step,
        this.loss,
        this.lr,
        this.gradNorm,
        this.tokens,
        this.tokensPerSec,
        this.elapsed,
      ])
        col.length = n;
    }
    if (this.evalStep.length && this.evalStep[this.evalStep.length - 1] >= step) {
      const n = lowerBound(this.evalStep, step);
      this.evalStep.length = n;
      this.evalLoss.length = n;
    }
  }
}
