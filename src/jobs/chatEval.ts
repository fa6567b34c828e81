/**
 * Chat evaluation: held-out conversations (a JSONL, ShareGPT or CSV file the run did not train on),
 * base vs tuned — the loss on the assistant's turns as the trainer counts it, and each model's
 * greedy reply to every conversation's last user turn beside the reply it had (masked like every
 * model output). The figures go into the evaluation report (`EvalReport.chat`) and the model card.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { tokenStreamFromFiles } from '../data/datasetFiles';
import { ChatTemplate } from '../data/formats/chat';
import { csvConversations } from '../data/formats/csv';
import { shareGptMessages } from '../data/formats/sharegpt';
import { UserError } from '../engine/errors';
import { loadAdapter } from '../engine/formats/peft';
import { loadModel } from '../engine/models';
import { loadTokenizer } from '../engine/tokenizer/tokenizer';
import type { ChatFigures } from '../eval/figures';
import { validationLoss } from '../eval/perplexity';
import { ChatModel, type ChatMessage, type ChatModelSource } from './chatModel';

export interface ChatEvalOptions {
  modelDir: string;
  /** A PEFT adapter or a fully tuned model folder; absent: the base alone. */
  adapterDir?: string;
  /** The held-out conversations. */
  file: string;
  /** Conversations answered side by side (default 8). */
  samples?: number;
  maxTokens?: number;
  seqLen?: number;
  threads?: number;
}

export async function evaluateChat(o: ChatEvalOptions): Promise<ChatFigures> {
  const conversations = readConversations(o.file);
  if (!ChatTemplate.fromModelDir(o.modelDir))
    throw new UserError(
      `${o.modelDir}: no chat_template in tokenizer_config.json, so there is no chat to evaluate`,
    );
  const tokenizer = await loadTokenizer(o.modelDir);
  const stream = await tokenStreamFromFiles([o.file], tokenizer, { modelDir: o.modelDir });
  const tunedIsModel = o.adapterDir !== undefined && !existsAdapter(o.adapterDir);
  const loss = async (modelDir: string, adapterDir?: string) => {
    const model = loadModel(modelDir);
    try {
      // A short file is one window: the loss needs seqLen + 1 tokens.
      const seqLen = Math.min(
        o.seqLen ?? 256,
        model.family.contextLength(model.config),
        stream.ids.length - 1,
      );
      const adapter = adapterDir ? loadAdapter(adapterDir) : undefined;
      const f = await validationLoss(model, stream, { adapter, seqLen, threads: o.threads });
      return { loss: f?.loss ?? null, perplexity: f?.perplexity ?? null, tokens: f?.tokens ?? 0 };
    } finally {
      model.weights.close();
    }
  };
  const base = await loss(o.modelDir);
  const tuned = o.adapterDir
    ? await (tunedIsModel ? loss(o.adapterDir) : loss(o.modelDir, o.adapterDir))
    : null;

  const asked = conversations.slice(0, o.samples ?? 8);
  const answer = async (source: ChatModelSource) => {
    const model = await ChatModel.load(source, { threads: o.threads });
    const out = [];
    for (const c of asked) out.push(await model.reply(c.prompt, { maxTokens: o.maxTokens ?? 64 }));
    return out;
  };
  const b = await answer({ modelDir: o.modelDir });
  const t = o.adapterDir
    ? await answer(
        tunedIsModel ? { modelDir: o.adapterDir } : { modelDir: o.modelDir, adapterDir: o.adapterDir },
      )
    : null;
  return {
    file: o.file,
    conversations: conversations.length,
    base,
    tuned,
    samples: asked.map((c, i) => ({
      prompt: c.prompt.at(-1)!.content,
      expected: c.expected,
      base: b[i].text,
      tuned: t ? t[i].text : null,
    })),
    masked: [...b, ...(t ?? [])].reduce((n, r) => n + r.masked, 0),
  };
}

function existsAdapter(dir: string): boolean {
  return existsSync(join(dir, 'adapter_config.json'));
}

/** The conversations that end with an assistant turn: the turns before it as the prompt. */
function readConversations(file: string): { prompt: ChatMessage[]; expected: string }[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new UserError(`${file}: cannot read (${(err as NodeJS.ErrnoException).code}); check the path`);
  }
  const all: ChatMessage[][] = /\.(csv|tsv)$/i.test(file)
    ? csvConversations(text, file).flatMap((r) => ('messages' in r ? [r.messages] : []))
    : text.split('\n').flatMap((line) => {
        if (!line.trim()) return [];
        try {
          const r = JSON.parse(line) as { messages?: ChatMessage[]; conversations?: unknown };
          if (Array.isArray(r.messages)) return [r.messages];
          const g = shareGptMessages(r.conversations);
          return 'messages' in g ? [g.messages] : [];
        } catch {
          return [];
        }
      });
  const out = all
    .filter((m) => m.length >= 2 && m.at(-1)!.role === 'assistant' && m.at(-2)!.role === 'user')
    .map((m) => ({ prompt: m.slice(0, -1), expected: m.at(-1)!.content }));
  if (out.length === 0)
    throw new UserError(`${file}: no conversation that ends with an assistant reply to evaluate against`);
  return out;
}
