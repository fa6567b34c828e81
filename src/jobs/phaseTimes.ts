/**
 * Where a training run's wall time goes, phase by phase, from its events as they arrive: setup
 * (loading, graph and session building, up to the end of the first step), each step, each
 * evaluation, each checkpoint write, and the final write. The calibration measures its few steps
 * this way and bench/estimate.ts the real run, so the estimate's error can be traced to a phase.
 */
import type { TrainEvent } from '../engine/train/events';

export interface PhaseTimes {
  /** From the start to the end of the first step (its warm-up included). */
  untilFirstStep: number;
  /** Each step after the first: from the previous event to its own. */
  steps: number[];
  /** Each evaluation (with the best adapter's write when the best is kept), in order. */
  evaluations: number[];
  /** Each checkpoint write, the one at the end included. */
  checkpoints: number[];
  /** Writing the final adapter or model, after the last checkpoint. */
  final: number;
  total: number;
}

/** Feeds on the run's events (`onEvent`); `now` is a clock in milliseconds (tests pass their own). */
export class PhaseTimer {
  private readonly times: PhaseTimes = {
    untilFirstStep: 0,
    steps: [],
    evaluations: [],
    checkpoints: [],
    final: 0,
    total: 0,
  };
  private last: number;
  private firstStepSeen = false;

  constructor(
    private readonly started: number = performance.now(),
    private readonly now: () => number = () => performance.now(),
  ) {
    this.last = started;
  }

  onEvent(e: TrainEvent): void {
    if (e.type !== 'step' && e.type !== 'eval' && e.type !== 'checkpoint' && e.type !== 'done') return;
    const t = this.now();
    const seconds = (t - this.last) / 1000;
    this.last = t;
    if (e.type === 'step') {
      if (this.firstStepSeen) this.times.steps.push(seconds);
      else this.times.untilFirstStep = (t - this.started) / 1000;
      this.firstStepSeen = true;
    } else if (e.type === 'eval') this.times.evaluations.push(seconds);
    else if (e.type === 'checkpoint') this.times.checkpoints.push(seconds);
    else {
      this.times.final = seconds;
      this.times.total = (t - this.started) / 1000;
    }
  }

  result(): PhaseTimes {
    return structuredClone(this.times);
  }
}

export function median(xs: number[]): number {
  if (xs.length === 0) return 0;
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}
