// ShareGPT-style records, `{"conversations": [{"from": "human", "value": "..."}, ...]}` (as many
// chat datasets and exporters write them), to the `messages` form the chat template renders.
import type { ChatMessage } from './chat';

/** ShareGPT speaker names → roles. */
const ROLES: Record<string, string> = {
  system: 'system',
  human: 'user',
  user: 'user',
  gpt: 'assistant',
  assistant: 'assistant',
  chatgpt: 'assistant',
  bing: 'assistant',
  bard: 'assistant',
  model: 'assistant',
};

/** The conversation as messages, or a reason it is not one. */
export function shareGptMessages(value: unknown): { messages: ChatMessage[] } | { error: string } {
  if (!Array.isArray(value) || value.length === 0)
    return { error: '"conversations" must be a non-empty array' };
  const messages: ChatMessage[] = [];
  for (const [i, turn] of value.entries()) {
    const { from, value: text } = (turn ?? {}) as Record<string, unknown>;
    if (typeof from !== 'string' || typeof text !== 'string')
      return { error: `conversation turn ${i + 1} needs a string "from" and a string "value"` };
    const role = ROLES[from.toLowerCase()];
    if (!role)
      return { error: `conversation turn ${i + 1}: unknown speaker "${from}" (use human, gpt or system)` };
    messages.push({ role, content: text });
  }
  return { messages };
}
