/**
 * The one message protocol between the extension host and its forked workers (docs/ARCHITECTURE.md).
 * Both sides import these types; every message carries `v`, and a side that receives another
 * version refuses it with an error instead of guessing. Training progress is the trainer's own
 * `TrainEvent` (the lines of metrics.jsonl and of `localtune train --json`), tagged with `v`.
 */
import type { DatasetOptions } from '../data/datasetConfig';
import type { DatasetManifest } from '../data/manifest';
import type { EvalReport } from '../eval/report';
import type { TrainEvent } from '../engine/train/events';
import type { DatasetPreview } from './datasetPreview';
import type { Calibration } from './estimate';
import type { TrainSpec } from './trainSpec';

export const PROTOCOL_VERSION = 1;

/** What a worker is asked to do. */
export type JobRequest =
  | { kind: 'train'; spec: TrainSpec }
  | {
      kind: 'dataset';
      sources: string[];
      modelDir: string;
      outDir: string;
      exclude?: string[];
      /** The dataset's own options (data/datasetConfig.ts); they win over `exclude`. */
      options?: Partial<DatasetOptions>;
    }
  /** A merged model folder for transformers.js (engine/generate/export). */
  | { kind: 'export'; modelDir: string; adapterDir?: string; outDir: string; dtype: 'fp32' | 'int8' }
  /** Base vs tuned on a dataset's held-out data (src/eval); the report goes to `<adapter>/eval.json`. */
  | {
      kind: 'eval';
      modelDir: string;
      adapterDir?: string;
      datasetDir: string;
      spans?: number;
      seed?: number;
    }
  /** A built dataset's manifest and its first `samples` training documents, decoded (jobs/datasetPreview). */
  | { kind: 'preview'; datasetDir: string; samples: number; modelDir?: string }
  /** A few timed training steps of `spec` in a scratch folder: the pre-flight estimate's calibration (jobs/estimate). */
  | { kind: 'calibrate'; spec: TrainSpec };

/** Host → worker. */
export type HostMessage =
  | { v: typeof PROTOCOL_VERSION; type: 'start'; job: JobRequest }
  /** Finish the current step, write a checkpoint, report `done` with reason 'stopped', exit. */
  | { v: typeof PROTOCOL_VERSION; type: 'stop' };

/** Why a job failed: `user` errors carry a message meant for the user as is. */
export type ErrorCause = 'user' | 'internal' | 'protocol';

/** Worker → host. */
export type WorkerMessage =
  | ({ v: typeof PROTOCOL_VERSION } & TrainEvent)
  /** The worker is up and listening (sent once, before any start). */
  | { v: typeof PROTOCOL_VERSION; type: 'ready'; pid: number }
  /** Every few seconds while alive: the host's watchdog and the dashboard's memory figure. */
  | { v: typeof PROTOCOL_VERSION; type: 'heartbeat'; rss: number; heapUsed: number; uptime: number }
  | { v: typeof PROTOCOL_VERSION; type: 'dataset-done'; outDir: string; manifest: DatasetManifest }
  | {
      v: typeof PROTOCOL_VERSION;
      type: 'export-done';
      outDir: string;
      modelFile: string;
      maxLogitDiff?: number;
    }
  | { v: typeof PROTOCOL_VERSION; type: 'eval-done'; report: EvalReport; reportPath?: string }
  | { v: typeof PROTOCOL_VERSION; type: 'preview-done'; preview: DatasetPreview }
  | { v: typeof PROTOCOL_VERSION; type: 'calibrate-done'; calibration: Calibration }
  | { v: typeof PROTOCOL_VERSION; type: 'error'; cause: ErrorCause; message: string; stack?: string };

export type WorkerMessageType = WorkerMessage['type'];

export function isWorkerMessage(m: unknown): m is WorkerMessage {
  return typeof m === 'object' && m !== null && typeof (m as { type?: unknown }).type === 'string';
}

export function isHostMessage(m: unknown): m is HostMessage {
  return (
    typeof m === 'object' &&
    m !== null &&
    ((m as { type?: unknown }).type === 'start' || (m as { type?: unknown }).type === 'stop')
  );
}

/** Attaches the protocol version: `tag({ type: 'stop' })`. */
export function tag<M extends object>(m: M): M & { v: typeof PROTOCOL_VERSION } {
  return { v: PROTOCOL_VERSION, ...m };
}
