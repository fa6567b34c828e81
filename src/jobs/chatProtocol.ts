/**
 * The chat worker's protocol (host ↔ `dist/worker/chat.js`), versioned like the other workers'
 * (protocol.ts, completeProtocol.ts): every message carries `v`. The worker holds models by slot
 * (the Playground's "base" and "tuned"), answers `reply` with `text` events (the reply so far,
 * masked) and one `done` or `error`, and `count` with `counted`.
 */
import type { ChatMessage, ChatModelSource, ChatReply, ChatSampling } from './chatModel';
import type { ErrorCause } from './protocol';

export const CHAT_PROTOCOL_VERSION = 1;
type V = { v: typeof CHAT_PROTOCOL_VERSION };

/** Host → worker. */
export type ChatHostMessage = V &
  (
    | { type: 'load'; id: number; slot: string; source: ChatModelSource; dtype: 'fp32' | 'int8' }
    | { type: 'reply'; id: number; slot: string; messages: ChatMessage[]; sampling: ChatSampling }
    | { type: 'cancel'; id: number }
    | { type: 'count'; id: number; slot: string; text: string }
  );

/** Worker → host. */
export type ChatWorkerMessage = V &
  (
    | { type: 'ready'; pid: number }
    /** `chat`: the model has a chat template (else it continues a prompt). */
    | { type: 'loaded'; id: number; label: string; chat: boolean; loadMs: number }
    /** The reply so far, masked; its first `stable` characters will not change. */
    | { type: 'text'; id: number; text: string; stable: number }
    | { type: 'done'; id: number; reply: ChatReply }
    | { type: 'counted'; id: number; tokens: number }
    /** `id` names the request that failed; without it the worker itself failed. */
    | { type: 'error'; id?: number; cause: ErrorCause; message: string; stack?: string }
  );

const HOST_TYPES = new Set(['load', 'reply', 'cancel', 'count']);

export function isChatHostMessage(m: unknown): m is ChatHostMessage {
  return (
    typeof m === 'object' &&
    m !== null &&
    (m as { v?: unknown }).v === CHAT_PROTOCOL_VERSION &&
    HOST_TYPES.has((m as { type?: unknown }).type as string)
  );
}

export function isChatWorkerMessage(m: unknown): m is ChatWorkerMessage {
  return typeof m === 'object' && m !== null && typeof (m as { type?: unknown }).type === 'string';
}

/** Attaches the protocol version. */
export function chatTag<M extends object>(m: M): M & V {
  return { v: CHAT_PROTOCOL_VERSION, ...m };
}
