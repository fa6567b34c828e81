/**
 * The host side of the chat worker (no vscode import): forks `dist/worker/chat.js` and turns its
 * messages into promises. Each request has an id; a reply streams its text to `onText` and resolves
 * with the finished reply; an aborted signal stops it between tokens (it resolves with what was
 * said, stop 'aborted'). When the worker dies every pending request rejects with why, and later
 * requests reject too: the owner starts a new client.
 */
import type { ChildProcess } from 'node:child_process';
import type { ChatMessage, ChatModelSource, ChatReply, ChatSampling } from './chatModel';
import {
  chatTag,
  CHAT_PROTOCOL_VERSION,
  isChatWorkerMessage,
  type ChatHostMessage,
  type ChatWorkerMessage,
} from './chatProtocol';
import { forkWorker } from './fork';

export interface ChatClientOptions {
  /** dist/worker/chat.js, or src/jobs/workers/chat.ts (run through tsx) in tests. */
  workerPath: string;
  /** Worker stderr lines, for the output channel. */
  onLog?: (line: string) => void;
  env?: NodeJS.ProcessEnv;
}

export interface LoadedChatModel {
  label: string;
  /** Whether it has a chat template (else the Playground shows a completion prompt). */
  chat: boolean;
  loadMs: number;
}

interface Pending {
  resolve: (m: ChatWorkerMessage) => void;
  reject: (e: Error) => void;
  onText?: (text: string, stable: number) => void;
}

type HostRequest = ChatHostMessage extends infer M
  ? M extends unknown
    ? Omit<M, 'v' | 'id'>
    : never
  : never;

export class ChatClient {
  private readonly child: ChildProcess;
  private readonly pending = new Map<number, Pending>();
  private readonly stderr: string[] = [];
  private nextId = 1;
  private dead: string | undefined;

  constructor(private readonly o: ChatClientOptions) {
    this.child = forkWorker(o.workerPath, { env: o.env });
    const keep = (chunk: string) => {
      for (const line of chunk.split('\n').filter(Boolean)) {
        this.stderr.push(line);
        o.onLog?.(line);
      }
      this.stderr.splice(0, Math.max(0, this.stderr.length - 20));
    };
    this.child.stderr?.setEncoding('utf8').on('data', keep);
    this.child.stdout?.setEncoding('utf8').on('data', keep);
    this.child.on('message', (m) => this.receive(m));
    this.child.on('error', (err) => keep(err.message));
    this.child.on('exit', (code, signal) => {
      const last = this.stderr.length ? ` (${this.stderr[this.stderr.length - 1]})` : '';
      const why =
        signal === 'SIGKILL'
          ? 'the chat worker was killed (SIGKILL: out of memory, or ended by another program)'
          : `the chat worker stopped (${signal ?? `code ${code}`})${last}`;
      this.dead ??= why;
      for (const p of this.pending.values()) p.reject(new Error(this.dead));
      this.pending.clear();
    });
  }

  /** Whether the worker is still there to take requests. */
  get alive(): boolean {
    return this.dead === undefined;
  }

  /** Loads a model into `slot` (replacing the one there); rejects with the worker's message. */
  async load(
    slot: string,
    source: ChatModelSource,
    dtype: 'fp32' | 'int8' = 'fp32',
  ): Promise<LoadedChatModel> {
    const m = await this.request({ type: 'load', slot, source, dtype });
    if (m.type !== 'loaded') throw new Error(`unexpected ${m.type}`);
    return { label: m.label, chat: m.chat, loadMs: m.loadMs };
  }

  /** The reply of the model in `slot` to `messages`; `onText` hears the masked text so far. */
  async reply(
    slot: string,
    messages: ChatMessage[],
    sampling: ChatSampling,
    o: { signal?: AbortSignal; onText?: (text: string, stable: number) => void } = {},
  ): Promise<ChatReply> {
    const id = this.nextId;
    const onAbort = () => this.send({ type: 'cancel', id });
    o.signal?.addEventListener('abort', onAbort, { once: true });
    try {
      const m = await this.request({ type: 'reply', slot, messages, sampling }, o.onText);
      if (m.type !== 'done') throw new Error(`unexpected ${m.type}`);
      return m.reply;
    } finally {
      o.signal?.removeEventListener('abort', onAbort);
    }
  }

  /** Tokens `text` takes in the tokenizer of the model in `slot`. */
  async countTokens(slot: string, text: string): Promise<number> {
    const m = await this.request({ type: 'count', slot, text });
    if (m.type !== 'counted') throw new Error(`unexpected ${m.type}`);
    return m.tokens;
  }

  dispose(): void {
    this.dead ??= 'the chat worker was closed';
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill();
  }

  private request(m: HostRequest, onText?: Pending['onText']): Promise<ChatWorkerMessage> {
    if (this.dead) return Promise.reject(new Error(this.dead));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject, onText });
      this.send({ ...m, id } as Omit<ChatHostMessage, 'v'>);
    });
  }

  private send(m: Omit<ChatHostMessage, 'v'>): void {
    if (this.child.connected) this.child.send(chatTag(m));
  }

  private receive(m: unknown): void {
    if (!isChatWorkerMessage(m)) return;
    if (m.v !== CHAT_PROTOCOL_VERSION) {
      this.dead = `the chat worker speaks protocol v${m.v}, the extension v${CHAT_PROTOCOL_VERSION}: reinstall LocalTune`;
      this.child.kill('SIGKILL');
      return;
    }
    if (m.type === 'ready') return;
    const p = m.id === undefined ? undefined : this.pending.get(m.id);
    if (!p) {
      if (m.type === 'error') this.o.onLog?.(`chat worker: ${m.message}${m.stack ? `\n${m.stack}` : ''}`);
      return;
    }
    if (m.type === 'text') return p.onText?.(m.text, m.stable);
    this.pending.delete(m.id!);
    if (m.type === 'error') {
      if (m.stack) this.o.onLog?.(m.stack);
      p.reject(new Error(m.message));
    } else p.resolve(m);
  }
}
