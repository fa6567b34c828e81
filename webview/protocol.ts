/**
 * Every message between the dashboard panel (extension host, `src/vscode/dashboard/dashboardPanel.ts`)
 * and its webview (`webview/main.ts`), and the types they carry. Types only: both bundles import
 * this file, and it imports only types from src/eval/ and src/engine/.
 */
import type { EvalReport } from '../src/eval/figures';
import type { TrainEvent } from '../src/engine/train/events';

/**
 * One model's local completion counters (shown, accepted, kept after 30 s), as the host keeps them
 * (`src/vscode/completion/completionStats.ts`) and the Completions section shows them.
 */
export interface ModelCompletionStats {
  /** The folder that served (the `localtune.completions.model` setting). */
  model: string;
  /** What the user calls it: the run's title, or the folder's name. */
  label: string;
  shown: number;
  accepted: number;
  acceptedChars: number;
  /** Accepted characters whose survival was checked (the check runs `surviveAfterMs` later)… */
  checkedChars: number;
  /** …and how many of them were still in the document then. */
  survivedChars: number;
  lastUsed: string;
}

/** A row of the Completions section: one model's counters. */
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
  /** Model outputs (Playground, chat, completions) masked by the secret scrubber in this workspace. */
  | { type: 'maskedOutputs'; count: number }
  /**
   * The primary run's evaluation, base vs tuned (null: not evaluated yet), with the host's verdict
   * on the tuned model (src/jobs/runEvaluation.ts: 'worse' reads "worse: not recommended").
   */
  | { type: 'evaluation'; report: EvalReport | null; verdict?: Verdict | null };

/** Tuned against base on held-out files, as the Runs view says it too. */
export type Verdict = 'better' | 'no better' | 'worse';

/** Points drawn for one run: step events plus eval events. */
export interface RunAck {
  points: number;
  lastStep: number;
}

/**
 * The dashboard's buttons that act on its primary run (the host knows which run that is). The panel
 * dispatches each to the handler registered for its `type` (`DashboardActions` in the panel).
 */
export type RunActionMessage =
  /** Stop: the worker finishes its step and writes a checkpoint. */
  | { type: 'stop' }
  /** Resume from the newest checkpoint. */
  | { type: 'resume' }
  /** Export model: a merged model folder (the host asks for the precision). */
  | { type: 'export' }
  /** Evaluate (again): tuned vs base on held-out files. */
  | { type: 'evaluate' }
  /** Show samples: the evaluation's side-by-side samples document. */
  | { type: 'showSamples' }
  /** Open in Playground: talk to the run's model beside its base. */
  | { type: 'playground' };

export type RunAction = RunActionMessage['type'];

/** Webview → host. */
export type WebviewMessage =
  /** The page's script is running: the host answers with `load` for every run. */
  | { type: 'ready' }
  /** Sent after drawing: `points` in total, and per run. */
  | { type: 'ack'; points: number; runs: Record<string, RunAck>; drawMs: number }
  | RunActionMessage
  /** "Compare with…": the host offers the other runs of the same runs folder. */
  | { type: 'compare' }
  | { type: 'removeRun'; runDir: string }
  /** "Export CSV": the host asks where to save it. */
  | { type: 'saveCsv'; csv: string; fileName: string };

/** What the webview keeps with `setState`, and the panel serializer restores from. */
export interface DashboardState {
  runDirs: string[];
}

// ---- The Playground (src/vscode/playground/playgroundPanel.ts ↔ webview/playground/main.ts) ----

/** The two models the Playground compares. */
export type PlaygroundSide = 'base' | 'tuned';

/** The sampling settings both sides share. */
export interface PlaygroundSettings {
  temperature: number;
  topP: number;
  maxTokens: number;
  seed: number;
}

/** One side's model: loading, ready (with its name) or failed (with why). */
export interface PlaygroundModelView {
  label: string;
  state: 'loading' | 'ready' | 'error';
  error?: string;
}

/** One side's reply to a turn, as it streams (secrets already masked by the host's worker). */
export interface PlaygroundReplyView {
  text: string;
  done: boolean;
  tokens?: number;
  tokensPerSecond?: number;
  stop?: string;
  /** Secrets masked in this reply. */
  masked?: number;
  error?: string;
}

export interface PlaygroundTurnView {
  user: string;
  replies: Partial<Record<PlaygroundSide, PlaygroundReplyView>>;
}

/** Everything the page shows; the host owns it and sends it whole after each change. */
export interface PlaygroundView {
  /** true: a chat (the models have a chat template) with a system prompt; false: completion prompts. */
  chat: boolean;
  models: Partial<Record<PlaygroundSide, PlaygroundModelView>>;
  system: string;
  settings: PlaygroundSettings;
  turns: PlaygroundTurnView[];
  busy: boolean;
  /** Model outputs masked in this workspace so far (every Playground, chat and completion). */
  maskedTotal: number;
  /** Where the conversation was last saved or opened from. */
  file?: string;
  notice?: string;
}

/** Host → Playground page. */
export type PlaygroundHostMessage = { type: 'view'; view: PlaygroundView };

/** Playground page → host. */
export type PlaygroundPageMessage =
  | { type: 'ready' }
  /** Send: a new user turn (the system prompt and settings as the page shows them). */
  | { type: 'ask'; text: string; system: string; settings: PlaygroundSettings }
  | { type: 'stop' }
  /** Start over (keeps the models, the system prompt and the settings). */
  | { type: 'clear' }
  | { type: 'save' }
  | { type: 'open' };

/** The Fine-tune form (webview/finetune/, host src/vscode/finetune/): every value the CLI's train takes. */
export type FinetunePreset = 'quick' | 'balanced' | 'thorough';

export interface FinetuneValues {
  model: string;
  dataset: string;
  /** The run's name (its title in the Runs view and the dashboard). */
  name: string;
  preset: FinetunePreset;
  mode: 'lora' | 'full';
  /** Optimizer steps; 0 with `epochs` set trains that many passes. */
  steps: number;
  epochs: number;
  lr: number;
  warmupSteps: number;
  weightDecay: number;
  clipNorm: number;
  batchTokens: number;
  seqLen: number;
  microBatchTokens: number;
  loraR: number;
  loraAlpha: number;
  loraDropout: number;
  /** LoRA target modules, comma-separated; empty: the model family's defaults. */
  targets: string;
  /** LoRA: the frozen base weights in float32 or int8 (integer products; the same adapter). */
  baseDtype: 'fp32' | 'int8';
  evalEvery: number;
  evalTokens: number;
  patience: number;
  keepBest: boolean;
  checkpointEvery: number;
  seed: number;
  /** 0: ONNX Runtime's default. */
  threads: number;
}

export interface FinetuneChoice {
  value: string;
  label: string;
  description?: string;
}

/** The pre-flight estimate as the form shows it (src/jobs/estimate.ts). */
export interface FinetuneEstimate {
  trainTokens: number;
  steps: number;
  epochs: number;
  seconds: number;
  peakBytes: number;
  warnings: string[];
  /** When the calibration was measured, and whether it came from the cache. */
  measuredAt: string;
  cached: boolean;
  stepSeconds: number;
  /** What the time holds besides the steps: setup and the first step, evaluations, checkpoint writes. */
  setupSeconds: number;
  evaluations: number;
  checkpoints: number;
}

/** Host → form. */
export type FinetuneHostMessage =
  | {
      type: 'init';
      models: FinetuneChoice[];
      datasets: FinetuneChoice[];
      values: FinetuneValues;
      presets: Record<FinetunePreset, Partial<FinetuneValues>>;
    }
  /** Values the host derives from the model: its learning rate by size and mode, the capped seqLen. */
  | { type: 'defaults'; values: Partial<FinetuneValues> }
  | { type: 'estimating' }
  | { type: 'estimate'; estimate: FinetuneEstimate | null; error?: string }
  /** Start refused (an invalid value, a job already running): one line for the user. */
  | { type: 'error'; message: string };

/** Form → host. */
export type FinetunePageMessage =
  | { type: 'ready' }
  | { type: 'modelChanged'; values: FinetuneValues }
  /** The form took the host's defaults for that change (what the fields now hold). */
  | { type: 'defaultsApplied'; values: FinetuneValues }
  | { type: 'estimate'; values: FinetuneValues }
  | { type: 'start'; values: FinetuneValues }
  /** Train elsewhere: the same run written as a job for a GPU trainer (docs/handoff.md). */
  | { type: 'handoff'; values: FinetuneValues }
  | { type: 'cancel' };
