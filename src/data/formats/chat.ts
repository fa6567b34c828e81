// Renders chat `messages` with the model's own chat template (tokenizer_config.json) through
// @huggingface/jinja, marking the assistant turns as the only text with loss.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Template } from '@huggingface/jinja';
import type { Sample, Segment } from './sample';

export interface ChatMessage {
  role: string;
  content: string;
}

/** Thrown for a record the template cannot render; the message becomes `file:line: reason`. */
export class ChatRecordError extends Error {}

export class ChatTemplate {
  private readonly template: Template;

  constructor(
    source: string,
    private readonly specialTokens: Record<string, string> = {},
  ) {
    this.template = new Template(source);
  }

  /** The model's template, or null when its tokenizer_config.json has none. */
  static fromModelDir(modelDir: string): ChatTemplate | null {
    const path = join(modelDir, 'tokenizer_config.json');
    if (!existsSync(path)) return null;
    const config = JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
    let source = config.chat_template;
    // Some models ship several named templates; 'default' is the chat one.
    if (Array.isArray(source)) source = source.find((t) => t?.name === 'default')?.template;
    if (typeof source !== 'string') return null;
    const special: Record<string, string> = {};
    for (const key of ['bos_token', 'eos_token', 'unk_token', 'pad_token']) {
      const v = config[key] as unknown;
      const text = typeof v === 'string' ? v : (v as { content?: unknown } | null)?.content;
      if (typeof text === 'string') special[key] = text;
    }
    return new ChatTemplate(source, special);
  }

  render(messages: ChatMessage[], addGenerationPrompt: boolean): string {
    try {
      return this.template.render({
        messages,
        add_generation_prompt: addGenerationPrompt,
        ...this.specialTokens,
      });
    } catch (err) {
      throw new ChatRecordError(`the chat template rejected the record (${(err as Error).message})`);
    }
  }

  /**
   * The whole conversation as segments with loss on assistant turns only, covering what the
   * template emitted for each turn (templates may trim it: Llama 3.x renders `content | trim`).
   * For templates where a shorter conversation renders as a prefix of a longer one (nearly all), an
   * assistant turn is the text between "history + generation prompt" and "history + this turn", so
   * its end-of-turn token is learned too; otherwise the turn's content is located in the full
   * rendering by rendering it again with a sentinel in its place.
   */
  toSample(messages: ChatMessage[]): Sample {
    const full = this.render(messages, false);
    const segments: Segment[] = [];
    let pos = 0;
    for (let i = 0; i < messages.length; i++) {
      if (messages[i].role !== 'assistant') continue;
      const span =
        this.prefixSpan(messages, i, full, pos) ??
        this.sentinelSpan(messages, i, full, pos) ??
        contentSpan(full, messages[i].content, pos);
      if (!span) throw new ChatRecordError(`assistant turn ${i + 1} does not appear in the rendered chat`);
      if (span[0] > pos) segments.push({ text: full.slice(pos, span[0]), loss: false });
      segments.push({ text: full.slice(span[0], span[1]), loss: true });
      pos = span[1];
    }
    if (pos < full.length) segments.push({ text: full.slice(pos), loss: false });
    return Object.assign(segments, { templated: true });
  }

  private prefixSpan(
    messages: ChatMessage[],
    i: number,
    full: string,
    from: number,
  ): [number, number] | null {
    let before: string;
    let through: string;
    try {
      before = this.render(messages.slice(0, i), true);
      through = this.render(messages.slice(0, i + 1), false);
    } catch {
      return null; // e.g. a template that refuses a history ending on a user turn
    }
    if (before.length < from || !through.startsWith(before) || !full.startsWith(through)) return null;
    // Whatever whitespace the template strips from the content, the trimmed content is left in it.
    const turn = through.slice(before.length);
    if (turn === '' || !turn.includes(messages[i].content.trim())) return null;
    return [before.length, through.length];
  }

  /**
   * Where the template put turn i's content: rendered again with a sentinel as that content, the
   * text before and after the sentinel is also the full rendering's, and what lies between them there
   * is the content as the template emitted it (trimmed or otherwise changed), even where the same
   * text also appears elsewhere (in the question, say).
   */
  private sentinelSpan(
    messages: ChatMessage[],
    i: number,
    full: string,
    from: number,
  ): [number, number] | null {
    let marked: string;
    try {
      marked = this.render(
        messages.map((m, j) => (j === i ? { ...m, content: SENTINEL } : m)),
        false,
      );
    } catch {
      return null;
    }
    const at = marked.indexOf(SENTINEL);
    if (at < from || marked.indexOf(SENTINEL, at + 1) !== -1) return null;
    const after = marked.slice(at + SENTINEL.length);
    const end = full.length - after.length;
    if (end < at || !full.startsWith(marked.slice(0, at)) || !full.endsWith(after)) return null;
    return [at, end];
  }
}

/** Stands in for an assistant turn's content; no whitespace at its ends, so trimming keeps it whole. */
const SENTINEL = '\u2063localtune-assistant-turn\u2063';

/** The last resort: the raw content found as is. Whitespace alone locates nothing. */
function contentSpan(full: string, content: string, from: number): [number, number] | null {
  if (content.trim() === '') return null;
  const at = full.indexOf(content, from);
  return at === -1 ? null : [at, at + content.length];
}

/** Checks the shape of `messages`; returns a reason when it is not a usable conversation. */
export function checkMessages(value: unknown): string | null {
  if (!Array.isArray(value) || value.length === 0) return '"messages" must be a non-empty array';
  for (const [i, m] of value.entries()) {
    if (typeof m !== 'object' || m === null) return `message ${i + 1} is not an object`;
    const { role, content } = m as Record<string, unknown>;
    if (typeof role !== 'string') return `message ${i + 1} has no string "role"`;
    if (typeof content !== 'string') return `message ${i + 1} has no string "content"`;
  }
  if (!value.some((m) => (m as ChatMessage).role === 'assistant'))
    return 'no "assistant" message, so there is nothing to learn';
  return null;
}
