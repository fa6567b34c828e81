/**
 * An evaluation's samples as the Markdown document the editor opens beside the code: each masked
 * span with what the developer wrote and both models' answers, then, for a chat dataset, each
 * held-out prompt with the reply its conversation had and both models' replies.
 */
import type { EvalReport } from './figures';

export function samplesMarkdown(r: EvalReport): string {
  return [
    `# Evaluation samples: base vs tuned`,
    '',
    `Base: ${r.model}  `,
    `Tuned: ${r.adapter ?? '—'}`,
    '',
    ...spanSamples(r),
    ...chatSamples(r),
  ].join('\n');
}

/** Each masked span: the code before the cursor, the masked text, and both models' answers. */
function spanSamples(r: EvalReport): string[] {
  if (!r.samples.length) return [];
  const verdict = (exact: boolean | null) => (exact === null ? '' : exact ? ' — exact match' : '');
  const out = [
    `Masked spans in held-out files of **${r.dataset.name}** (files the model never trained on), seed ${r.seed}.`,
    '',
  ];
  r.samples.forEach((s, i) => {
    out.push(
      `## ${i + 1}. ${s.file}:${s.line} (${s.kind})`,
      '',
      'Before the cursor:',
      '',
      fence(s.before + '█'),
    );
    out.push('', 'What was written:', '', fence(s.expected), '');
    out.push(`**Base**${verdict(s.baseExact)}:`, '', answer(s.base), '');
    if (s.tuned !== null) out.push(`**Tuned**${verdict(s.tunedExact)}:`, '', answer(s.tuned), '');
  });
  return out;
}

/** Each held-out conversation's last user turn: the reply it had, and what each model replied. */
function chatSamples(r: EvalReport): string[] {
  const chat = r.chat;
  if (!chat?.samples.length) return [];
  const out = [
    `## Held-out conversations`,
    '',
    `Replies (greedy, secrets masked) to the last user turn of ${chat.source}, which the model never trained on.`,
    '',
  ];
  chat.samples.forEach((s, i) => {
    out.push(`### ${i + 1}. ${s.where ?? 'held-out prompt'}`, '', 'User:', '', fence(s.prompt), '');
    out.push('The reply it had:', '', fence(s.expected), '', '**Base**:', '', answer(s.base), '');
    if (s.tuned !== null) out.push('**Tuned**:', '', answer(s.tuned), '');
  });
  return out;
}

/** A code fence longer than any backtick run in the text. */
function fence(text: string): string {
  const ticks = '`'.repeat(Math.max(3, ...[...text.matchAll(/`+/g)].map((m) => m[0].length + 1)));
  return `${ticks}\n${text}\n${ticks}`;
}

function answer(text: string): string {
  return text === '' ? '_(nothing shown)_' : fence(text);
}
