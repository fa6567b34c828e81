/** Time left in a run, from the pace of its recent steps; and durations for people. */

/** Steps the pace is measured over. */
const RECENT_STEPS = 20;

/**
 * Seconds until `totalSteps`, from the time the last `RECENT_STEPS` steps took. `elapsed` restarts
 * from 0 when a run is resumed: only the steps since the last restart count. Undefined while
 * fewer than two steps of the current session are known.
 */
export function etaSeconds(steps: number[], elapsed: number[], totalSteps: number): number | undefined {
  const n = steps.length;
  if (n === 0) return undefined;
  if (steps[n - 1] >= totalSteps) return 0;
  let first = n - 1;
  while (first > 0 && n - 1 - first < RECENT_STEPS && elapsed[first - 1] <= elapsed[first]) first--;
  const stepsDone = steps[n - 1] - steps[first];
  const seconds = elapsed[n - 1] - elapsed[first];
  if (stepsDone <= 0 || seconds < 0) return undefined;
  return ((totalSteps - steps[n - 1]) * seconds) / stepsDone;
}

/** Training time over all sessions of a run: `elapsed` restarts from 0 at each resume. */
export function totalElapsed(elapsed: number[]): number | undefined {
  if (elapsed.length === 0) return undefined;
  let before = 0;
  for (let i = 1; i < elapsed.length; i++) if (elapsed[i] < elapsed[i - 1]) before += elapsed[i - 1];
  return before + elapsed[elapsed.length - 1];
}

/** 3725 → "1h 02m", 125 → "2m 05s", 9.4 → "9s". */
export function formatDuration(seconds: number | undefined): string {
  if (seconds === undefined || !Number.isFinite(seconds)) return '—';
  const s = Math.max(0, Math.round(seconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const pad = (v: number) => String(v).padStart(2, '0');
  if (h > 0) return `${h}h ${pad(m)}m`;
  if (m > 0) return `${m}m ${pad(s % 60)}s`;
  return `${s}s`;
}

/** 536870912 → "512 MB". */
export function formatBytes(bytes: number | undefined): string {
  if (bytes === undefined) return '—';
  if (bytes >= 1024 ** 3) return `${(bytes / 1024 ** 3).toFixed(1)} GB`;
  return `${Math.round(bytes / 1024 ** 2)} MB`;
}
