/**
 * One model to talk to (a model folder with an optional adapter, or an exported folder): its
 * decoder, tokenizer and chat template. With a template (tokenizer_config.json's chat_template) a
 * conversation is rendered through it and generation stops at the end of the assistant's turn;
 * without one the last user message is a plain completion prompt. Every reply passes the secret
 * scrubber before anyone sees it (chatOutput.ts). Used by the chat worker and `localtune chat`.
 */
import { existsSync } from 'node:fs';
import { basename, join } from 'node:path';
import { ChatTemplate, type ChatMessage } from '../data/formats/chat';
import { UserError } from '../engine/errors';
import { loadAdapter } from '../engine/formats/peft';
import { Decoder, type StopReason } from '../engine/generate/decoder';
import { TextStream } from '../engine/generate/textStream';
import { loadModel } from '../engine/models';
import { loadTokenizer, type Tokenizer } from '../engine/tokenizer/tokenizer';
import { MaskedOutput } from './chatOutput';

export type { ChatMessage } from '../data/formats/chat';

/** A model folder (with a PEFT adapter merged), or a folder written by `localtune export`. */
export type ChatModelSource = { modelDir: string; adapterDir?: string } | { exportDir: string };

export interface ChatSampling {
  /** New tokens at most (default 128). */
  maxTokens?: number;
  /** 0 (default): greedy. */
  temperature?: number;
  topP?: number;
  seed?: number;
}

export interface ChatReply {
  /** The reply as shown: secrets masked. */
  text: string;
  /** Secrets masked in it. */
  masked: number;
  tokens: number;
  promptTokens: number;
  stop: StopReason;
  firstTokenMs: number;
  tokensPerSecond: number;
}

/** Tokens that end an assistant turn in the common chat templates (used when the vocabulary has them). */
const END_OF_TURN = ['<|im_end|>', '<|eot_id|>', '<|end|>', '<end_of_turn>', '<|endoftext|>', '</s>'];

export class ChatModel {
  private constructor(
    private readonly decoder: Decoder,
    readonly tokenizer: Tokenizer,
    /** null: a completion model (no chat template). */
    readonly template: ChatTemplate | null,
    readonly label: string,
    private readonly stopIds: number[],
  ) {}

  static async load(
    source: ChatModelSource,
    o: { dtype?: 'fp32' | 'int8'; threads?: number; spin?: boolean } = {},
  ): Promise<ChatModel> {
    let decoder: Decoder;
    let dir: string;
    if ('exportDir' in source) {
      dir = source.exportDir;
      if (!existsSync(join(dir, 'onnx')))
        throw new UserError(
          `${dir}: not an exported model (no onnx/ folder); export it with localtune export`,
        );
      decoder = await Decoder.fromExported(dir, o);
    } else {
      dir = source.modelDir;
      const model = loadModel(dir);
      try {
        const adapter = source.adapterDir ? loadAdapter(source.adapterDir) : undefined;
        decoder = await Decoder.fromModel(model, { ...o, adapter });
      } finally {
        model.weights.close();
      }
    }
    const tokenizer = await loadTokenizer(dir);
    const template = ChatTemplate.fromModelDir(dir);
    const stopIds = template
      ? END_OF_TURN.map((t) => tokenizer.tokenId(t)).filter((id): id is number => id !== undefined)
      : [];
    if (tokenizer.eosId !== null) stopIds.push(tokenizer.eosId);
    return new ChatModel(decoder, tokenizer, template, chatModelLabel(source), stopIds);
  }

  /** The prompt's token ids: the conversation through the template, or the last user message. */
  prompt(messages: ChatMessage[]): number[] {
    if (messages.length === 0) throw new UserError('the conversation is empty: write a message first');
    const text = this.template
      ? this.template.render(messages, true)
      : ([...messages].reverse().find((m) => m.role === 'user')?.content ?? '');
    const ids = this.tokenizer.encode(text);
    if (ids.length === 0)
      throw new UserError('the prompt is empty: write some text for the model to continue');
    return ids;
  }

  countTokens(text: string): number {
    return this.tokenizer.encode(text).length;
  }

  /**
   * The model's reply to `messages`, streamed: `onText` gets the reply so far (masked) after each
   * token and `stable` (masked text that will not change any more) for front ends that can only append.
   */
  async reply(
    messages: ChatMessage[],
    sampling: ChatSampling = {},
    on: { signal?: AbortSignal; onText?: (text: string, stableLength: number) => void } = {},
  ): Promise<ChatReply> {
    const prompt = this.prompt(messages);
    const stream = new TextStream((ids) => this.tokenizer.decode(ids));
    const output = new MaskedOutput();
    const result = await this.decoder.generate(prompt, {
      maxTokens: sampling.maxTokens ?? 128,
      temperature: sampling.temperature ?? 0,
      topP: sampling.topP ?? 1,
      seed: sampling.seed,
      stopIds: this.stopIds,
      signal: on.signal,
      onToken: (id) => {
        if (this.stopIds.includes(id)) return; // the end-of-turn marker is not part of the reply
        const fresh = stream.push(id);
        if (!fresh) return;
        const text = output.push(fresh);
        on.onText?.(text, output.stableLength);
      },
    });
    output.push(stream.flush());
    const text = output.finish();
    on.onText?.(text, text.length);
    return {
      text,
      masked: output.masked,
      tokens: result.tokens.length,
      promptTokens: result.promptTokens,
      stop: result.stop,
      firstTokenMs: result.firstTokenMs,
      tokensPerSecond: result.decodeTokensPerSecond,
    };
  }
}

/** A short name: the folder, with the adapter's run and folder when there is one. */
export function chatModelLabel(source: ChatModelSource): string {
  if ('exportDir' in source) return basename(source.exportDir);
  if (!source.adapterDir) return basename(source.modelDir);
  return `${basename(source.modelDir)} + ${basename(source.adapterDir)}`;
}
