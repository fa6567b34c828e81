/**
 * Messages between the dashboard panel (extension host, `src/vscode/dashboardPanel.ts`) and its
 * webview (`webview/main.ts`). Types only: both bundles import this file.
 */
import type { EvalReport } from '../src/eval/figures';
import type { TrainEvent } from '../src/engine/train/events';
import type { ModelCompletionStats } from '../src/vscode/completionStats';

/** One model's local completion counters (shown, accepted, kept after 30 s), for the Completions section. */
export type CompletionStatsRow = ModelCompletionStats;

/** The worker's periodic heartbeat (`jobs/protocol.ts`): the dashboard shows its `rss` as memory. */
export interface HeartbeatEvent {
  type: 'heartbeat';
  rss: number;
  heapUsed?: number;
}

/** What the host forwards to the webview: the trainer's events plus the worker's heartbeat. */
export type DashboardEvent = TrainEvent | HeartbeatEvent;

export interface RunRef {
  runDir: string;
  title: string;
}

/** One run's data as the host hands it over: the file's history as text, then the live tail. */
export interface RunLoad extends RunRef {
  /** `metrics.jsonl` as read from disk (parsed in the webview; a truncated last line is skipped). */
  metricsText: string;
  /** Events received live that the file did not hold yet when it was read. */
  live: DashboardEvent[];
}

/** Host → webview. */
export type HostMessage =
  /** Replace (or add) these runs' data; `primary` is the run the buttons act on. */
  | { type: 'load'; primary: string; runs: RunLoad[] }
  /** Live events, batched (at most one message per ~100 ms). */
  | { type: 'events'; batches: { runDir: string; events: DashboardEvent[] }[] }
  /** Local completion statistics of every model used in this workspace (never sent anywhere). */
  | { type: 'completionStats'; rows: CompletionStatsRow[] }
  /** The primary run's evaluation, base vs tuned (null: not evaluated yet). */
  | { type: 'evaluation'; report: EvalReport | null };

/** Points drawn for one run: step events plus eval events. */
export interface RunAck {
  points: number;
  lastStep: number;
}

/** Webview → host. */
export type WebviewMessage =
  /** The page's script is running: the host answers with `load` for every run. */
  | { type: 'ready' }
  /** Sent after drawing: `points` in total, and per run. */
  | { type: 'ack'; points: number; runs: Record<string, RunAck>; drawMs: number }
  | { type: 'request'; command: 'stop' | 'resume' | 'export' | 'evaluate' | 'samples' }
  /** "Compare with…": the host offers the other runs of the same runs folder. */
  | { type: 'compare' }
  | { type: 'removeRun'; runDir: string }
  /** "Export CSV": the host asks where to save it. */
  | { type: 'saveCsv'; csv: string; fileName: string };

/** What the webview keeps with `setState`, and the panel serializer restores from. */
export interface DashboardState {
  runDirs: string[];
}
