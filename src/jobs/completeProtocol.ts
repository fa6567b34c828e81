/**
 * The completion worker's protocol (host ↔ `dist/worker/complete.js`), versioned like the training
 * protocol (protocol.ts): every message carries `v`; a side that receives another version refuses
 * it. The worker is long-lived: one `load`, then any number of `complete` / `cancel` / `health`.
 * Requests carry an id chosen by the host; every `complete` is answered by exactly one `result`
 * (with `completion: null` when it was superseded or cancelled) or one `error` with that id.
 */
import { basename } from 'node:path';
import type { Completion, CompletionRequest } from '../engine/complete/completer';
import type { ErrorCause } from './protocol';

export const COMPLETE_PROTOCOL_VERSION = 1;
type V = { v: typeof COMPLETE_PROTOCOL_VERSION };

/** Which weights serve: a model folder (with a PEFT adapter merged), or a folder from `localtune export`. */
export type CompletionModelSource = { modelDir: string; adapterDir?: string } | { exportDir: string };

export interface LoadSpec {
  model: CompletionModelSource;
  dtype: 'fp32' | 'int8';
  /** 0 (default): greedy. */
  temperature?: number;
  topP?: number;
  /** ONNX Runtime intra-op threads (default: ONNX Runtime's choice). */
  threads?: number;
}

/** Host → worker. */
export type CompleteHostMessage = V &
  (
    | { type: 'load'; spec: LoadSpec }
    | { type: 'complete'; id: number; request: CompletionRequest }
    | { type: 'cancel'; id: number }
    | { type: 'health'; id: number }
  );

/** Worker → host. */
export type CompleteWorkerMessage = V &
  (
    | { type: 'ready'; pid: number }
    /** The model is loaded; `model` names it for the status bar. */
    | { type: 'loaded'; model: string; fim: 'starcoder' | 'qwen' | null; loadMs: number }
    | { type: 'pong'; id: number; rss: number; busy: boolean }
    /** `completion.text` is masked (secrets replaced by placeholders); `masked` counts them. */
    | { type: 'result'; id: number; completion: (Completion & { masked: number }) | null }
    /** `id` names the request that failed; without it the load (or the worker) failed. */
    | { type: 'error'; id?: number; cause: ErrorCause; message: string; stack?: string }
    | { type: 'log'; level: 'info' | 'warn'; message: string }
  );

const HOST_TYPES = new Set(['load', 'complete', 'cancel', 'health']);

export function isCompleteHostMessage(m: unknown): m is CompleteHostMessage {
  return (
    typeof m === 'object' &&
    m !== null &&
    (m as { v?: unknown }).v === COMPLETE_PROTOCOL_VERSION &&
    HOST_TYPES.has((m as { type?: unknown }).type as string)
  );
}

export function isCompleteWorkerMessage(m: unknown): m is CompleteWorkerMessage {
  return typeof m === 'object' && m !== null && typeof (m as { type?: unknown }).type === 'string';
}

/** Attaches the protocol version. */
export function ctag<M extends object>(m: M): M & V {
  return { v: COMPLETE_PROTOCOL_VERSION, ...m };
}

/** A short name for the status bar: the folder, with the adapter's folder when there is one. */
export function modelLabel(model: CompletionModelSource): string {
  if ('exportDir' in model) return basename(model.exportDir);
  return model.adapterDir
    ? `${basename(model.modelDir)} + ${basename(model.adapterDir)}`
    : basename(model.modelDir);
}
