/**
 * Playground conversations on disk: `.localtune/conversations/<name>.jsonl`, one line in the
 * `messages` format the datasets read (the tuned model's side, so a good conversation can become
 * training data as it is), with the base model's replies and the settings beside it under
 * `localtune` (ignored by the dataset reader).
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { UserError } from '../../engine/errors';
import type { ChatMessage } from '../../jobs/chatModel';
import type { PlaygroundSettings, PlaygroundTurnView } from '../../../webview/protocol';

export interface SavedConversation {
  system: string;
  settings: PlaygroundSettings;
  turns: PlaygroundTurnView[];
}

interface ConversationLine {
  messages: ChatMessage[];
  localtune: { base: string[]; settings: PlaygroundSettings; sides: ('base' | 'tuned')[] };
}

export function conversationsDir(workspace: string): string {
  return join(workspace, '.localtune', 'conversations');
}

/** Saved conversations, newest first. */
export function listConversations(workspace: string): string[] {
  const dir = conversationsDir(workspace);
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => f.endsWith('.jsonl'))
    .sort()
    .reverse()
    .map((f) => join(dir, f));
}

/** Writes the conversation (atomically) and returns its file. */
export function saveConversation(workspace: string, c: SavedConversation, name = timestamp()): string {
  const dir = conversationsDir(workspace);
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${name.replace(/[^\w.-]+/g, '-')}.jsonl`);
  // The tuned side is the conversation; with only one model, that model's.
  const main = c.turns.some((t) => t.replies.tuned) ? 'tuned' : 'base';
  const messages: ChatMessage[] = c.system ? [{ role: 'system', content: c.system }] : [];
  for (const t of c.turns) {
    messages.push({ role: 'user', content: t.user });
    messages.push({ role: 'assistant', content: t.replies[main]?.text ?? '' });
  }
  const line: ConversationLine = {
    messages,
    localtune: {
      base: main === 'tuned' ? c.turns.map((t) => t.replies.base?.text ?? '') : [],
      settings: c.settings,
      sides: main === 'tuned' ? ['base', 'tuned'] : ['base'],
    },
  };
  const tmp = `${file}.tmp-${process.pid}`;
  writeFileSync(tmp, JSON.stringify(line) + '\n');
  renameSync(tmp, file);
  return file;
}

/** Reads a saved conversation (or any JSONL file whose first line has `messages`). */
export function readConversation(file: string, fallback: PlaygroundSettings): SavedConversation {
  let line: Partial<ConversationLine>;
  try {
    line = JSON.parse(readFileSync(file, 'utf8').split('\n')[0]) as Partial<ConversationLine>;
  } catch (err) {
    throw new UserError(`${file}:1: not a conversation (${(err as Error).message})`);
  }
  if (!Array.isArray(line.messages))
    throw new UserError(`${file}:1: no "messages" array; save conversations from the Playground`);
  const sides = line.localtune?.sides ?? ['tuned'];
  const main = sides.includes('tuned') ? 'tuned' : 'base';
  const system = line.messages.find((m) => m.role === 'system')?.content ?? '';
  const turns: PlaygroundTurnView[] = [];
  for (const m of line.messages) {
    if (m.role === 'user') turns.push({ user: m.content, replies: {} });
    else if (m.role === 'assistant' && turns.length)
      turns[turns.length - 1].replies[main] = { text: m.content, done: true };
  }
  const base = line.localtune?.base ?? [];
  if (main === 'tuned') base.forEach((text, i) => turns[i] && (turns[i].replies.base = { text, done: true }));
  return { system, settings: { ...fallback, ...line.localtune?.settings }, turns };
}

function timestamp(): string {
  return new Date().toISOString().replace(/[:.]/g, '-');
}
