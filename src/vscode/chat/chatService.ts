/**
 * The editor's one chat worker (jobs/chatClient.ts), shared by the Playground and the Language Model
 * provider: started on first use, started again after it died, with models loaded by slot (a slot
 * asked for the same model again is not reloaded). It also keeps the workspace's count of masked
 * model outputs (workspace state), which the Playground and the dashboard show.
 */
import * as vscode from 'vscode';
import { ChatClient, type LoadedChatModel } from '../../jobs/chatClient';
import type { ChatMessage, ChatModelSource, ChatReply, ChatSampling } from '../../jobs/chatModel';

const MASKED_KEY = 'localtune.maskedOutputs';

export class ChatService implements vscode.Disposable {
  private client: ChatClient | undefined;
  /** What each slot holds in the current worker, by source key, and its load. */
  private readonly slots = new Map<string, { key: string; loaded: Promise<LoadedChatModel> }>();
  private readonly maskedEmitter = new vscode.EventEmitter<number>();
  /** Fires with the new total whenever an output was masked. */
  readonly onDidMask = this.maskedEmitter.event;

  constructor(
    private readonly o: {
      workerPath: string;
      log: vscode.LogOutputChannel;
      state: vscode.Memento;
    },
  ) {}

  /** Model outputs masked in this workspace so far. */
  get maskedTotal(): number {
    return this.o.state.get<number>(MASKED_KEY, 0);
  }

  /** Loads `source` into `slot` unless it is there already. */
  load(slot: string, source: ChatModelSource): Promise<LoadedChatModel> {
    const client = this.worker();
    const key = JSON.stringify(source);
    const held = this.slots.get(slot);
    if (held?.key === key) return held.loaded;
    const loaded = client.load(slot, source);
    this.slots.set(slot, { key, loaded });
    loaded.catch(() => {
      if (this.slots.get(slot)?.loaded === loaded) this.slots.delete(slot);
    });
    return loaded;
  }

  async reply(
    slot: string,
    messages: ChatMessage[],
    sampling: ChatSampling,
    o: { signal?: AbortSignal; onText?: (text: string, stable: number) => void } = {},
  ): Promise<ChatReply> {
    const reply = await this.worker().reply(slot, messages, sampling, o);
    if (reply.masked > 0) this.countMasked(reply.masked);
    return reply;
  }

  countTokens(slot: string, text: string): Promise<number> {
    return this.worker().countTokens(slot, text);
  }

  /** Adds masked outputs (also from completions) to the workspace's count. */
  countMasked(n: number): void {
    const total = this.maskedTotal + n;
    void this.o.state.update(MASKED_KEY, total);
    this.o.log.info(`masked ${n} secret(s) in model output (${total} in this workspace)`);
    this.maskedEmitter.fire(total);
  }

  dispose(): void {
    this.client?.dispose();
    this.maskedEmitter.dispose();
  }

  private worker(): ChatClient {
    if (this.client?.alive) return this.client;
    this.client?.dispose();
    this.slots.clear();
    this.client = new ChatClient({
      workerPath: this.o.workerPath,
      onLog: (line) => this.o.log.info(`chat worker: ${line}`),
    });
    return this.client;
  }
}
