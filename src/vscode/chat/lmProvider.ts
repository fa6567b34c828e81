/**
 * The tuned models in VS Code's chat: a Language Model chat provider (vendor `localtune`) that
 * offers each run's final weights, so the chat model picker and any extension calling
 * `vscode.lm.selectChatModels({ vendor: 'localtune' })` can use them. Replies stream from the chat
 * worker with secrets masked (only text that can no longer change is reported); tokens are counted
 * with the model's own tokenizer.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as vscode from 'vscode';
import type { ChatMessage, ChatModelSource } from '../../jobs/chatModel';
import type { RunsTree } from '../trees/runsTree';
import { resolveServedModel } from '../completion/completionModel';
import type { ChatService } from './chatService';

interface LocalTuneModel extends vscode.LanguageModelChatInformation {
  source: ChatModelSource;
}

export class LocalTuneChatProvider implements vscode.LanguageModelChatProvider<LocalTuneModel> {
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChangeLanguageModelChatInformation = this.changed.event;

  constructor(
    private readonly service: ChatService,
    private readonly runs: RunsTree,
    private readonly findBase: (hubId: string) => Promise<string | undefined>,
  ) {
    runs.onDidChangeTreeData(() => this.changed.fire());
  }

  async provideLanguageModelChatInformation(): Promise<LocalTuneModel[]> {
    const out: LocalTuneModel[] = [];
    for (const run of this.runs.runs()) {
      const finalDir = run.record?.finalDir;
      if (run.status !== 'finished' || !finalDir || !existsSync(finalDir)) continue;
      const served = await resolveServedModel(finalDir, this.findBase);
      if ('error' in served) continue;
      const title = run.record?.title ?? run.id;
      out.push({
        id: run.id,
        name: title,
        family: 'localtune',
        version: run.id,
        tooltip: `Tuned with LocalTune: ${served.label}, running on this machine`,
        detail: 'local',
        maxInputTokens: contextLength(served.source),
        maxOutputTokens: 1024,
        capabilities: {},
        source: served.source,
      });
    }
    return out;
  }

  async provideLanguageModelChatResponse(
    model: LocalTuneModel,
    messages: readonly vscode.LanguageModelChatRequestMessage[],
    options: vscode.ProvideLanguageModelChatResponseOptions,
    progress: vscode.Progress<vscode.LanguageModelResponsePart>,
    token: vscode.CancellationToken,
  ): Promise<void> {
    const slot = await this.load(model);
    const stop = new AbortController();
    const sub = token.onCancellationRequested(() => stop.abort());
    const maxTokens = Number(options.modelOptions?.maxTokens ?? options.modelOptions?.max_tokens ?? 256);
    const temperature = Number(options.modelOptions?.temperature ?? 0);
    let shown = 0;
    try {
      const reply = await this.service.reply(
        slot,
        messages.map(toChatMessage),
        { maxTokens, temperature },
        {
          signal: stop.signal,
          onText: (text, stable) => {
            if (stable <= shown) return;
            progress.report(new vscode.LanguageModelTextPart(text.slice(shown, stable)));
            shown = stable;
          },
        },
      );
      if (reply.text.length > shown)
        progress.report(new vscode.LanguageModelTextPart(reply.text.slice(shown)));
    } finally {
      sub.dispose();
    }
  }

  async provideTokenCount(
    model: LocalTuneModel,
    text: string | vscode.LanguageModelChatRequestMessage,
  ): Promise<number> {
    const slot = await this.load(model);
    return this.service.countTokens(slot, typeof text === 'string' ? text : toChatMessage(text).content);
  }

  dispose(): void {
    this.changed.dispose();
  }

  private async load(model: LocalTuneModel): Promise<string> {
    const slot = `lm:${JSON.stringify(model.source)}`;
    await this.service.load(slot, model.source);
    return slot;
  }
}

function toChatMessage(m: vscode.LanguageModelChatRequestMessage): ChatMessage {
  const content = m.content.map((p) => (p instanceof vscode.LanguageModelTextPart ? p.value : '')).join('');
  const role =
    m.role === vscode.LanguageModelChatMessageRole.Assistant
      ? 'assistant'
      : (m.role as number) === 3 // System, where the API has it
        ? 'system'
        : 'user';
  return { role, content };
}

/** The model's context length from its config.json (2048 when it does not say). */
function contextLength(source: ChatModelSource): number {
  const dir = 'exportDir' in source ? source.exportDir : source.modelDir;
  try {
    const c = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')) as Record<string, unknown>;
    const n = c.max_position_embeddings ?? c.n_positions;
    return typeof n === 'number' ? n : 2048;
  } catch {
    return 2048;
  }
}

/** The vendor in package.json's `languageModelChatProviders` contribution. */
export const LM_VENDOR = 'localtune';
