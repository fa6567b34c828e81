/**
 * `localtune chat`: talk to a model in the terminal (a conversation through its chat template, or
 * a completion prompt when it has none), or answer one conversation from a file as JSON. Replies
 * stream as they are generated; secrets in them are masked (jobs/chatOutput.ts).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { UserError } from '../engine/errors';
import { ChatModel, type ChatMessage, type ChatSampling } from '../jobs/chatModel';
import type { CliIo, CommandArgs } from './command';
import {
  command,
  dtypeFlag,
  numberFlag,
  optionalNumberFlag,
  required,
  resolveModel,
  stringFlags,
} from './command';

const HELP = `localtune chat --model DIR|ID [--adapter DIR] [--system STR] [options]
  Talks to the model: type a message, the reply streams back; /reset starts over, an empty line
  or end of input ends. DIR is a model folder or a folder written by localtune export. A model
  with a chat template (tokenizer_config.json) keeps the conversation; one without continues each
  message as a prompt.
  --messages FILE     answer the conversation in FILE (a JSON array of {role, content}, or an
                      object with "messages", as a dataset line) once and exit
  --system STR        system prompt (before the first message)
  --max-tokens N      new tokens per reply at most (default 128)
  --temperature T     0 = greedy (default); above 0 samples
  --top-p P           nucleus sampling mass (default 1)
  --seed N            makes sampling reproducible
  --dtype fp32|int8   int8: weight-only int8 matrices (default fp32)
  --json              with --messages: one JSON line with the reply`;

/** CliIo plus raw stdout writes (streaming) and the input lines come from (default: stdin). */
export type ChatIo = CliIo & { write?: (text: string) => void; input?: NodeJS.ReadableStream };

const CHAT_FLAGS = stringFlags('model adapter system messages max-tokens temperature top-p seed dtype');

export const runChatCommand = command({ help: HELP, flags: CHAT_FLAGS }, chatCommand);

async function chatCommand({ values }: CommandArgs<typeof CHAT_FLAGS>, io: ChatIo) {
  const modelArg = required(values.model, 'chat needs --model DIR|ID');
  const dtype = dtypeFlag(values.dtype);
  const sampling: ChatSampling = {
    maxTokens: numberFlag(values['max-tokens'], 'max-tokens', 128),
    temperature: numberFlag(values.temperature, 'temperature', 0, false),
    topP: numberFlag(values['top-p'], 'top-p', 1, false),
    seed: optionalNumberFlag(values.seed, 'seed'),
  };
  if (sampling.topP! <= 0 || sampling.topP! > 1)
    throw new UserError(`--top-p must be in (0, 1] (got ${sampling.topP})`);
  if (values.json && !values.messages)
    throw new UserError('--json answers one conversation: give --messages FILE');
  const fromFile = values.messages ? readMessages(values.messages) : undefined;

  const { modelDir } = await resolveModel(modelArg, io);
  const model = await ChatModel.load(
    values.adapter ? { modelDir, adapterDir: values.adapter } : exportedOrModel(modelDir),
    { dtype },
  );
  const system: ChatMessage[] = values.system ? [{ role: 'system', content: values.system }] : [];
  const write = io.write ?? ((text: string) => void process.stdout.write(text));

  if (fromFile) {
    const messages = fromFile[0]?.role === 'system' || !values.system ? fromFile : [...system, ...fromFile];
    if (values.json) {
      const r = await model.reply(messages, sampling);
      io.out(
        JSON.stringify({ model: model.label, chat: model.template !== null, reply: r.text, ...stats(r) }),
      );
    } else {
      await streamReply(model, messages, sampling, write, io);
    }
    return 0;
  }

  io.err(
    `${model.label}: ${model.template ? 'chat (its template)' : 'no chat template: each message is continued as a prompt'}; /reset starts over, an empty line ends`,
  );
  let messages: ChatMessage[] = [...system];
  const lines = createInterface({ input: io.input ?? process.stdin, terminal: false });
  write('> ');
  for await (const line of lines) {
    if (line.trim() === '') break;
    if (line.trim() === '/reset') {
      messages = [...system];
      write('(new conversation)\n> ');
      continue;
    }
    messages.push({ role: 'user', content: line });
    const reply = await streamReply(model, messages, sampling, write, io);
    if (model.template) messages.push({ role: 'assistant', content: reply });
    else messages = [...system];
    write('> ');
  }
  lines.close();
  write('\n');
  return 0;
}

/** Streams a reply (only text that will not change, so a masked secret never shows); returns it. */
async function streamReply(
  model: ChatModel,
  messages: ChatMessage[],
  sampling: ChatSampling,
  write: (text: string) => void,
  io: CliIo,
): Promise<string> {
  let shown = 0;
  const r = await model.reply(messages, sampling, {
    onText: (text, stable) => {
      if (stable > shown) write(text.slice(shown, stable));
      shown = Math.max(shown, stable);
    },
  });
  write(r.text.slice(shown) + '\n');
  const s = stats(r);
  io.err(
    `${s.tokens} tokens (${s.stop}), ${s.tokensPerSecond} tokens/s${r.masked ? `; ${r.masked} secret(s) masked` : ''}`,
  );
  return r.text;
}

function stats(r: Awaited<ReturnType<ChatModel['reply']>>) {
  return {
    masked: r.masked,
    tokens: r.tokens,
    promptTokens: r.promptTokens,
    stop: r.stop,
    tokensPerSecond: Number(r.tokensPerSecond.toFixed(1)),
  };
}

/** An exported folder (onnx/, no safetensors) is served as is; anything else as a model folder. */
function exportedOrModel(dir: string): { modelDir: string } | { exportDir: string } {
  const files = safeList(dir);
  const exported = files.includes('onnx') && !files.some((f) => f.startsWith('model.safetensors'));
  return exported ? { exportDir: dir } : { modelDir: dir };
}

function safeList(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    throw new UserError(`${dir}: no such model folder; give a model folder, an exported folder or a hub id`);
  }
}

/** The conversation in FILE: a JSON array of messages or an object with "messages"; errors name the file. */
export function readMessages(file: string): ChatMessage[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new UserError(`${file}: cannot read (${(err as NodeJS.ErrnoException).code}); check the path`);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new UserError(`${file}: not valid JSON (${(err as Error).message})`);
  }
  const messages = Array.isArray(value) ? value : (value as { messages?: unknown } | null)?.messages;
  if (!Array.isArray(messages) || messages.length === 0)
    throw new UserError(
      `${file}: expected a non-empty array of {"role", "content"} or an object with "messages"`,
    );
  for (const [i, m] of messages.entries()) {
    const { role, content } = (m ?? {}) as Record<string, unknown>;
    if (typeof role !== 'string' || typeof content !== 'string')
      throw new UserError(`${file}: message ${i + 1} needs a string "role" and a string "content"`);
  }
  if ((messages.at(-1) as ChatMessage).role === 'assistant')
    throw new UserError(
      `${file}: the conversation ends with an assistant message; end it with the user's turn`,
    );
  return messages as ChatMessage[];
}
