/**
 * What the host reads of a run's metrics to hand the page only what it lacks: the last step in
 * `metrics.jsonl` and the live events past it. Pure: no vscode, no Node.
 */
import type { DashboardEvent } from '../../../webview/protocol';

/** The step a metric point belongs to: step and eval events only (others are lifecycle). */
export function metricStep(e: DashboardEvent): number | undefined {
  return e.type === 'step' || e.type === 'eval' ? e.step : undefined;
}

/** The last step in a metrics.jsonl text, read from its end: -1 when it holds none. */
export function lastMetricStep(text: string): number {
  let end = text.length;
  while (end > 0) {
    const start = text.lastIndexOf('\n', end - 1) + 1;
    const line = text.slice(start, end).trim();
    if (line)
      try {
        const step = metricStep(JSON.parse(line) as DashboardEvent);
        if (step !== undefined) return step;
      } catch {
        // a truncated last line: look at the one before
      }
    end = start - 1;
  }
  return -1;
}

/**
 * The live events still needed after a read of metrics.jsonl that ended at `fileStep`: metric
 * points past it, and the latest lifecycle event of each kind (start, done, heartbeat), in order.
 */
export function liveTail(live: DashboardEvent[], fileStep: number): DashboardEvent[] {
  const lastOfType = new Map<string, number>();
  live.forEach((e, i) => lastOfType.set(e.type, i));
  return live.filter((e, i) => {
    const step = metricStep(e);
    return step === undefined ? lastOfType.get(e.type) === i : step > fileStep;
  });
}
