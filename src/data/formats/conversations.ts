// The conversations of a chat data file, by line, as the dataset build read them: JSONL `messages`,
// ShareGPT `conversations`, CSV/TSV rows (the chosen columns). Secrets in every turn are replaced
// by the same placeholders the build wrote, so what evaluation shows never holds a secret.
import { readFileSync } from 'node:fs';
import { UserError } from '../../engine/errors';
import type { HeldOutRecord } from '../manifest';
import { scrub } from '../scrub';
import type { ChatMessage } from './chat';
import { csvConversations, type CsvColumns } from './csv';
import { shareGptMessages } from './sharegpt';

export interface LinedConversation {
  /** Where the record is: `file:line`. */
  where: string;
  messages: ChatMessage[];
}

/** Every record of the file that is a conversation (other lines and rows are left out). */
export function fileConversations(path: string, text: string, columns?: CsvColumns): LinedConversation[] {
  const rows = /\.(csv|tsv)$/i.test(path)
    ? csvConversations(text, path, columns).flatMap((r) =>
        'messages' in r ? [{ line: r.line, messages: r.messages }] : [],
      )
    : text.split('\n').flatMap((raw, i) => {
        const messages = jsonConversation(raw);
        return messages ? [{ line: i + 1, messages }] : [];
      });
  return rows.map((r) => ({
    where: `${path}:${r.line}`,
    messages: r.messages.map((m) => ({ role: m.role, content: scrub(m.content).text })),
  }));
}

/** The held-out records of a dataset that are conversations, in the manifest's order. */
export function heldOutConversations(records: HeldOutRecord[], columns?: CsvColumns): LinedConversation[] {
  const byFile = new Map<string, Map<string, LinedConversation>>();
  const out: LinedConversation[] = [];
  for (const r of records) {
    let file = byFile.get(r.path);
    if (!file) {
      file = new Map(fileConversations(r.path, readText(r.path), columns).map((c) => [c.where, c]));
      byFile.set(r.path, file);
    }
    const c = file.get(`${r.path}:${r.line}`);
    if (c) out.push(c);
  }
  return out;
}

/** A JSONL line's conversation (`messages`, or ShareGPT's `conversations`), or null for anything else. */
function jsonConversation(line: string): ChatMessage[] | null {
  if (!line.trim()) return null;
  try {
    const r = JSON.parse(line) as { messages?: unknown; conversations?: unknown };
    if (Array.isArray(r.messages) && r.messages.every(isMessage)) return r.messages;
    const g = shareGptMessages(r.conversations);
    return 'messages' in g ? g.messages : null;
  } catch {
    return null;
  }
}

function isMessage(m: unknown): m is ChatMessage {
  const { role, content } = (m ?? {}) as Record<string, unknown>;
  return typeof role === 'string' && typeof content === 'string';
}

function readText(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    throw new UserError(
      `${path}: cannot read (${(err as NodeJS.ErrnoException).code}); the dataset's held-out conversations are read from it, so restore it or rebuild the dataset`,
    );
  }
}
