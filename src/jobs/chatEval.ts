/**
 * Chat evaluation: held-out conversations (a dataset's held-out chat records, or a JSONL, ShareGPT
 * or CSV file the run did not train on), base vs tuned — the loss on the assistant's turns as the
 * trainer counts it, and each model's greedy reply to every conversation's last user turn beside the
 * reply it had (masked like every model output). The figures go into the evaluation report
 * (`EvalReport.chat`) and the model card.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { TokenStream } from '../data/datasetFiles';
import { ChatTemplate } from '../data/formats/chat';
import { fileConversations, type LinedConversation } from '../data/formats/conversations';
import { recordSample } from '../data/formats/jsonl';
import { SampleEncoder } from '../data/tokenize';
import { UserError } from '../engine/errors';
import { loadAdapter } from '../engine/formats/peft';
import { loadModel } from '../engine/models';
import { loadTokenizer, type Tokenizer } from '../engine/tokenizer/tokenizer';
import type { ChatFigures } from '../eval/figures';
import { validationLoss } from '../eval/perplexity';
import { ChatModel, type ChatMessage, type ChatModelSource } from './chatModel';

export interface ChatEvalOptions {
  modelDir: string;
  /** A PEFT adapter or a fully tuned model folder; absent: the base alone. */
  adapterDir?: string;
  /** The held-out conversations (`conversationsFromFile`, or a dataset's `heldOutConversations`). */
  conversations: LinedConversation[];
  /** Where they came from, in words (a file, or "held-out records of dataset X"). */
  source: string;
  /** Conversations answered side by side (default 8). */
  samples?: number;
  /** Tokens the loss reads at most (default 16384): the first conversations, in order. */
  evalTokens?: number;
  maxTokens?: number;
  seqLen?: number;
  threads?: number;
}

export async function evaluateChat(o: ChatEvalOptions): Promise<ChatFigures> {
  const conversations = answerable(o.conversations, o.source);
  const chat = ChatTemplate.fromModelDir(o.modelDir);
  if (!chat)
    throw new UserError(
      `${o.modelDir}: no chat_template in tokenizer_config.json, so there is no chat to evaluate`,
    );
  const tokenizer = await loadTokenizer(o.modelDir);
  const stream = conversationStream(
    conversations.map((c) => [...c.prompt, { role: 'assistant', content: c.expected }]),
    tokenizer,
    chat,
    o.evalTokens ?? 16384,
  );
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
      const f = await validationLoss(model, stream, {
        adapter,
        seqLen,
        maxTokens: o.evalTokens ?? 16384,
        threads: o.threads,
      });
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
    source: o.source,
    conversations: conversations.length,
    base,
    tuned,
    samples: asked.map((c, i) => ({
      where: c.where,
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

/** A file's conversations (JSONL `messages`, ShareGPT, CSV/TSV), secrets masked as a build would. */
export function conversationsFromFile(file: string): LinedConversation[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new UserError(`${file}: cannot read (${(err as NodeJS.ErrnoException).code}); check the path`);
  }
  return fileConversations(file, text);
}

/** A conversation that ends with an assistant's reply to a user turn: one to answer and compare. */
export function isAnswerable({ messages: m }: LinedConversation): boolean {
  return m.length >= 2 && m.at(-1)!.role === 'assistant' && m.at(-2)!.role === 'user';
}

/** The answerable conversations: the turns before the last as the prompt, the last as expected. */
function answerable(
  all: LinedConversation[],
  source: string,
): { where: string; prompt: ChatMessage[]; expected: string }[] {
  const out = all
    .filter(isAnswerable)
    .map(({ where, messages: m }) => ({ where, prompt: m.slice(0, -1), expected: m.at(-1)!.content }));
  if (out.length === 0)
    throw new UserError(`${source}: no conversation that ends with an assistant reply to evaluate against`);
  return out;
}

/**
 * The conversations through the chat template, packed as the trainer packs them (loss on the
 * assistant), until `maxTokens` (and one for the last target) are there.
 */
function conversationStream(
  conversations: ChatMessage[][],
  tokenizer: Tokenizer,
  chat: ChatTemplate,
  maxTokens: number,
): TokenStream {
  const encoder = new SampleEncoder(tokenizer, tokenizer.eosId!);
  const ids: number[] = [];
  const weights: number[] = [];
  for (const messages of conversations) {
    if (ids.length > maxTokens) break;
    const r = recordSample({ messages }, chat);
    if ('error' in r) continue;
    const enc = encoder.encode(r.sample);
    ids.push(...enc.ids);
    weights.push(...enc.weights);
  }
  return { ids: Uint32Array.from(ids), weights: Uint8Array.from(weights) };
}
