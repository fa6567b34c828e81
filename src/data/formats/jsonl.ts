// One JSONL line -> one sample: {"text"}, {"prompt","completion"} (loss on the completion only),
// {"messages"} rendered with the chat template (loss on assistant turns only), or ShareGPT's
// {"conversations": [{"from", "value"}]} read as messages.
import { ChatRecordError, checkMessages, type ChatMessage, type ChatTemplate } from './chat';
import type { Sample } from './sample';
import { shareGptMessages } from './sharegpt';

export type RecordResult = { sample: Sample } | { error: string };

export function parseRecord(line: string, chat: ChatTemplate | null): RecordResult {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch (err) {
    return { error: `not valid JSON (${(err as Error).message})` };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    return { error: 'not a JSON object' };
  return recordSample(value as Record<string, unknown>, chat);
}

/** One record (a parsed JSONL line, or a CSV row as `messages`) -> its sample. */
export function recordSample(r: Record<string, unknown>, chat: ChatTemplate | null): RecordResult {
  if ('conversations' in r && !('messages' in r)) {
    const converted = shareGptMessages(r.conversations);
    if ('error' in converted) return converted;
    return chatSample(converted.messages, chat);
  }
  if ('messages' in r) return chatSample(r.messages, chat);
  if ('prompt' in r || 'completion' in r) {
    if (typeof r.prompt !== 'string' || typeof r.completion !== 'string')
      return { error: '"prompt" and "completion" must both be strings' };
    if (r.completion.length === 0) return { error: '"completion" is empty, so there is nothing to learn' };
    return {
      sample: [
        { text: r.prompt, loss: false },
        { text: r.completion, loss: true },
      ],
    };
  }
  if ('text' in r) {
    if (typeof r.text !== 'string') return { error: '"text" must be a string' };
    if (r.text.trim().length === 0) return { error: '"text" is empty' };
    return { sample: [{ text: r.text, loss: true }] };
  }
  return { error: 'no "text", "prompt"/"completion", "messages" or "conversations" field' };
}

function chatSample(messages: unknown, chat: ChatTemplate | null): RecordResult {
  const bad = checkMessages(messages);
  if (bad) return { error: bad };
  if (!chat) return { error: 'a chat record, but the model has no chat_template in tokenizer_config.json' };
  try {
    return { sample: chat.toSample(messages as ChatMessage[]) };
  } catch (err) {
    if (err instanceof ChatRecordError) return { error: err.message };
    throw err;
  }
}
