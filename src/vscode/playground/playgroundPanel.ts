/**
 * The Playground: a webview panel where the base model and the tuned model answer the same prompt
 * side by side, streamed from the chat worker (the extension host only routes). With a chat
 * template it is a multi-turn chat with a system prompt, each model continuing its own side of the
 * conversation; without one each prompt is continued on its own. The host owns the conversation
 * (`PlaygroundView`, webview/protocol.ts) and sends it whole to the page after each change.
 */
import { basename } from 'node:path';
import * as vscode from 'vscode';
import type { ChatMessage, ChatModelSource } from '../../jobs/chatModel';
import type {
  PlaygroundHostMessage,
  PlaygroundPageMessage,
  PlaygroundReplyView,
  PlaygroundSettings,
  PlaygroundSide,
  PlaygroundView,
} from '../../../webview/protocol';
import type { ChatService } from '../chat/chatService';
import { readConversation, saveConversation } from './conversations';
import { dashboardHtml, makeNonce } from '../dashboard/html';

/** The models a Playground compares (either may be absent: a model alone answers alone). */
export interface PlaygroundModels {
  title: string;
  base?: { label: string; source: ChatModelSource };
  tuned?: { label: string; source: ChatModelSource };
}

export const DEFAULT_SETTINGS: PlaygroundSettings = { temperature: 0, topP: 1, maxTokens: 128, seed: 0 };

/** The page gets the view at most this often while replies stream. */
const VIEW_MS = 50;

export class PlaygroundPanel {
  static readonly viewType = 'localtune.playground';
  private static readonly panels = new Set<PlaygroundPanel>();

  private readonly view: PlaygroundView;
  private readonly ready = new Map<PlaygroundSide, Promise<boolean>>();
  private controller: AbortController | undefined;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private readonly disposables: vscode.Disposable[] = [];

  /** The panel shown last (tests and commands act on it). */
  static get latest(): PlaygroundPanel | undefined {
    return [...PlaygroundPanel.panels].at(-1);
  }

  static open(
    o: { extensionUri: vscode.Uri; service: ChatService; workspace: () => string | undefined },
    models: PlaygroundModels,
  ): PlaygroundPanel {
    const panel = vscode.window.createWebviewPanel(
      PlaygroundPanel.viewType,
      `Playground: ${models.title}`,
      vscode.ViewColumn.Active,
      {
        enableScripts: true,
        retainContextWhenHidden: true,
        localResourceRoots: [
          vscode.Uri.joinPath(o.extensionUri, 'dist', 'webview'),
          vscode.Uri.joinPath(o.extensionUri, 'media'),
        ],
      },
    );
    return new PlaygroundPanel(panel, o, models);
  }

  private constructor(
    private readonly panel: vscode.WebviewPanel,
    private readonly o: {
      extensionUri: vscode.Uri;
      service: ChatService;
      workspace: () => string | undefined;
    },
    private readonly models: PlaygroundModels,
  ) {
    PlaygroundPanel.panels.add(this);
    this.view = {
      chat: true,
      models: {},
      system: '',
      settings: { ...DEFAULT_SETTINGS },
      turns: [],
      busy: false,
      maskedTotal: o.service.maskedTotal,
    };
    const web = panel.webview;
    const uri = (...p: string[]) => web.asWebviewUri(vscode.Uri.joinPath(o.extensionUri, ...p)).toString();
    // Strict CSP: script and styles only from the extension's folders, with a nonce.
    web.html = dashboardHtml({
      cspSource: web.cspSource,
      nonce: makeNonce(),
      script: uri('dist', 'webview', 'playground.js'),
      styles: [uri('media', 'playground.css')],
      title: 'Playground',
    });
    this.disposables.push(
      web.onDidReceiveMessage((m: PlaygroundPageMessage) => void this.onMessage(m)),
      o.service.onDidMask((total) => {
        this.view.maskedTotal = total;
        this.post();
      }),
      panel.onDidDispose(() => this.dispose()),
    );
    for (const side of ['base', 'tuned'] as const) this.loadSide(side);
  }

  /** A copy of what the page shows (tests). */
  state(): PlaygroundView {
    return structuredClone(this.view);
  }

  /** Both sides answer `text` as the next turn; resolves when both are done. */
  async ask(text: string, system = this.view.system, settings = this.view.settings): Promise<void> {
    if (this.view.busy) throw new Error('the models are still answering: stop them first');
    if (!text.trim()) return;
    this.view.system = system;
    this.view.settings = { ...settings };
    const sides = (['base', 'tuned'] as const).filter((s) => this.models[s]);
    const loaded = await Promise.all(sides.map((s) => this.ready.get(s)));
    const turn = { user: text, replies: {} as Partial<Record<PlaygroundSide, PlaygroundReplyView>> };
    // Each side sees its own earlier replies; without a chat template only this prompt.
    const history = (side: PlaygroundSide): ChatMessage[] => {
      if (!this.view.chat) return [{ role: 'user', content: text }];
      const messages: ChatMessage[] = system ? [{ role: 'system', content: system }] : [];
      for (const t of this.view.turns)
        messages.push(
          { role: 'user', content: t.user },
          { role: 'assistant', content: t.replies[side]?.text ?? '' },
        );
      return [...messages, { role: 'user', content: text }];
    };
    const asked = sides.map((side) => ({ side, messages: history(side) }));
    this.view.turns.push(turn);
    this.view.busy = true;
    this.view.notice = undefined;
    this.controller = new AbortController();
    const signal = this.controller.signal;
    this.post(true);
    await Promise.all(
      asked.map(async ({ side, messages }, i) => {
        if (!loaded[i]) return;
        const reply: PlaygroundReplyView = (turn.replies[side] = { text: '', done: false });
        try {
          const r = await this.o.service.reply(this.slot(side), messages, this.view.settings, {
            signal,
            onText: (t) => {
              reply.text = t;
              this.post();
            },
          });
          Object.assign(reply, {
            text: r.text,
            done: true,
            tokens: r.tokens,
            tokensPerSecond: r.tokensPerSecond,
            stop: r.stop,
            masked: r.masked,
          });
        } catch (err) {
          Object.assign(reply, { done: true, error: (err as Error).message });
        }
        this.post();
      }),
    );
    this.view.busy = false;
    this.controller = undefined;
    this.post(true);
  }

  stop(): void {
    this.controller?.abort();
  }

  clear(): void {
    this.stop();
    this.view.turns = [];
    this.view.file = undefined;
    this.view.notice = undefined;
    this.post(true);
  }

  /** Saves the conversation under `.localtune/conversations/`; returns the file. */
  save(name?: string): string | undefined {
    const ws = this.o.workspace();
    if (!ws) throw new Error('open a folder first: conversations are saved in its .localtune folder');
    if (this.view.turns.length === 0) {
      this.notice('Nothing to save yet: send a message first.');
      return undefined;
    }
    const file = saveConversation(ws, this.view, name);
    this.view.file = file;
    this.notice(`Saved to ${basename(file)}: the messages format datasets read.`);
    return file;
  }

  /** Shows a saved conversation; the next message continues it. */
  openFile(file: string): void {
    this.stop();
    const c = readConversation(file, this.view.settings);
    Object.assign(this.view, { system: c.system, settings: c.settings, turns: c.turns, file });
    this.notice(`Opened ${basename(file)}.`);
  }

  reveal(): void {
    this.panel.reveal();
  }

  dispose(): void {
    this.stop();
    PlaygroundPanel.panels.delete(this);
    clearTimeout(this.timer);
    for (const d of this.disposables.splice(0)) d.dispose();
    this.panel.dispose();
  }

  private loadSide(side: PlaygroundSide): void {
    const m = this.models[side];
    if (!m) return;
    this.view.models[side] = { label: m.label, state: 'loading' };
    const done = this.o.service.load(this.slot(side), m.source).then(
      (loaded) => {
        this.view.models[side] = { label: m.label, state: 'ready' };
        // A chat when the models have a chat template (both, when there are two).
        if (!loaded.chat) this.view.chat = false;
        this.post(true);
        return true;
      },
      (err: Error) => {
        this.view.models[side] = { label: m.label, state: 'error', error: err.message };
        this.post(true);
        return false;
      },
    );
    this.ready.set(side, done);
  }

  /** The worker slot of a side: the same model in two panels shares one. */
  private slot(side: PlaygroundSide): string {
    return `playground:${JSON.stringify(this.models[side]!.source)}`;
  }

  private notice(text: string): void {
    this.view.notice = text;
    this.post(true);
  }

  private async onMessage(m: PlaygroundPageMessage): Promise<void> {
    try {
      switch (m.type) {
        case 'ready':
          return this.post(true);
        case 'ask':
          return await this.ask(m.text, m.system, m.settings);
        case 'stop':
          return this.stop();
        case 'clear':
          return this.clear();
        case 'save':
          return void this.save();
        case 'open':
          return void (await vscode.commands.executeCommand('localtune.playground.open'));
      }
    } catch (err) {
      this.notice((err as Error).message);
    }
  }

  /** Sends the view now, or within VIEW_MS while text streams. */
  private post(now = false): void {
    if (now) {
      clearTimeout(this.timer);
      this.timer = undefined;
      const m: PlaygroundHostMessage = { type: 'view', view: this.view };
      void this.panel.webview.postMessage(m);
      return;
    }
    this.timer ??= setTimeout(() => this.post(true), VIEW_MS);
  }
}
