/**
 * The prompt for a completion at the cursor: the end of the text before it and the start of the
 * text after it, within a token budget, cut at line boundaries where possible. A model with FIM
 * tokens (findFimTokens in data/fim.ts, the one place FIM spellings live) gets the PSM layout it was
 * trained on, `<fim_prefix>P<fim_suffix>S<fim_middle>` (Qwen: `<|fim_prefix|>…`), or SPM,
 * `<fim_prefix><fim_suffix>S<fim_middle>P`, where the model says it answers that better (the prefix
 * right before the answer; context snippets just before it); a model without them gets the prefix
 * only (a FIM prompt in a model that never saw FIM makes garbage).
 *
 * When the prefix is cut, it starts at a line whose index is a multiple of PREFIX_LINE_STRIDE and
 * the cursor line is counted in steps of CURSOR_LINE_STEP tokens, so while the user types the start
 * stays put and the decoder's prompt cache keeps matching.
 */
import type { FimTokens } from '../tokenizer/fimTokens';
import type { Tokenizer } from '../tokenizer/tokenizer';

export interface CompletionPromptInput {
  /** The document's text before the cursor. */
  prefix: string;
  /** The document's text after the cursor. */
  suffix: string;
  tokenizer: Tokenizer;
  /** The model's FIM markers (findFimTokens), or null: a prefix-only prompt. */
  fim: FimTokens | null;
  /** Prompt tokens at most, markers included. */
  budgetTokens: number;
  /** The share of the budget the suffix may take in a FIM prompt (default 0.25). */
  suffixShare?: number;
  /** Other files' snippets as comments (context.ts), put before the prefix. */
  context?: string;
  /** The share of the budget the context may take (default 0.3); the prefix gets what it leaves. */
  contextShare?: number;
  /** 'spm': `<fim_prefix><fim_suffix>S<fim_middle>P`, the prefix right before the answer (default 'psm'). */
  fimLayout?: 'psm' | 'spm';
}

export interface CompletionPrompt {
  ids: number[];
  /** Where the kept prefix begins in `prefix` (0: all of it). */
  prefixStart: number;
  /** Where the kept suffix ends in `suffix` (suffix.length: all of it; 0 without FIM). */
  suffixEnd: number;
  /** Index in `ids` after the last prefix token (token healing backs off the one before it). */
  prefixEnd: number;
  /** Prefix tokens in `ids`. */
  prefixTokens: number;
  /** Context tokens in `ids` (before the prefix). */
  contextTokens: number;
}

/** The kept prefix starts at a multiple of this many lines (prompt-cache stability). */
export const PREFIX_LINE_STRIDE = 8;
/** The cursor line's tokens are counted in steps of this many when the prefix is cut. */
const CURSOR_LINE_STEP = 32;
/** No tokenizer packs more characters than this into a token on code; bounds what is tokenized. */
const MAX_CHARS_PER_TOKEN = 8;

export function buildCompletionPrompt(input: CompletionPromptInput): CompletionPrompt {
  const { prefix, suffix, tokenizer, fim } = input;
  // The BOS the tokenizer config asks for (Llama's <s>) leads, as transformers' tokenizer puts it.
  const bos = tokenizer.prefixIds;
  const all = Math.max(0, Math.floor(input.budgetTokens) - (fim ? 3 : 0) - bos.length);
  // The snippets closest to the code are kept when the context is cut.
  const c = input.context
    ? keepLines(input.context, Math.floor(all * (input.contextShare ?? 0.3)), tokenizer, 'tail')
    : { ids: [] };
  const budget = all - c.ids.length;
  if (!fim) {
    const p = keepLines(prefix, budget, tokenizer, 'tail');
    return {
      ids: [...bos, ...c.ids, ...p.ids],
      prefixStart: prefix.length - p.chars,
      suffixEnd: 0,
      prefixEnd: bos.length + c.ids.length + p.ids.length,
      prefixTokens: p.ids.length,
      contextTokens: c.ids.length,
    };
  }
  const s = keepLines(suffix, Math.floor(budget * (input.suffixShare ?? 0.25)), tokenizer, 'head');
  const p = keepLines(prefix, budget - s.ids.length, tokenizer, 'tail');
  // SPM puts the prefix last, right before the answer (healing and the prompt cache key on prefixEnd).
  const spm = input.fimLayout === 'spm';
  const ids = spm
    ? [...bos, fim.prefix, fim.suffix, ...s.ids, fim.middle, ...c.ids, ...p.ids]
    : [...bos, fim.prefix, ...c.ids, ...p.ids, fim.suffix, ...s.ids, fim.middle];
  return {
    ids,
    prefixStart: prefix.length - p.chars,
    suffixEnd: s.chars,
    prefixEnd: spm ? ids.length : bos.length + 1 + c.ids.length + p.ids.length,
    prefixTokens: p.ids.length,
    contextTokens: c.ids.length,
  };
}

/**
 * The lines at one end of `text` (`tail`: the last ones, `head`: the first ones) that fit in
 * `budget` tokens, encoded; `chars` is how much of `text` they span. A single line longer than the
 * budget is cut by tokens.
 */
function keepLines(
  text: string,
  budget: number,
  tokenizer: Tokenizer,
  end: 'head' | 'tail',
): { ids: number[]; chars: number } {
  if (budget <= 0 || text.length === 0) return { ids: [], chars: 0 };
  const lines = text.split(/(?<=\n)/); // each line keeps its newline
  const order = end === 'tail' ? lines.map((_, i) => lines.length - 1 - i) : lines.map((_, i) => i);
  // Candidate lines from the kept end, bounded in characters before anything is tokenized.
  let n = 0;
  let chars = 0;
  while (n < order.length && chars <= budget * MAX_CHARS_PER_TOKEN) chars += lines[order[n++]].length;
  const join = (count: number) => {
    const picked = order.slice(0, count).map((i) => lines[i]);
    return (end === 'tail' ? picked.reverse() : picked).join('');
  };
  let ids = tokenizer.encode(join(n));
  if (ids.length <= budget && n === lines.length) return { ids, chars: text.length };
  let fit = n;
  if (ids.length > budget) {
    // Count per line (close to, not exactly, the joined count), then re-check the joined text.
    let used = 0;
    fit = 0;
    while (fit < n) {
      let c = tokenizer.encode(lines[order[fit]]).length;
      // The cursor line counts in steps, so typing on it seldom moves the start.
      if (end === 'tail' && fit === 0)
        c = Math.min(budget, Math.ceil(c / CURSOR_LINE_STEP) * CURSOR_LINE_STEP);
      if (used + c > budget) break;
      used += c;
      fit++;
    }
  }
  if (end === 'tail' && fit > 0) {
    // Start at a stride line: the start moves seldom while the user types at the end.
    const snapped = Math.ceil((lines.length - fit) / PREFIX_LINE_STRIDE) * PREFIX_LINE_STRIDE;
    if (snapped < lines.length) fit = lines.length - snapped;
  }
  if (Math.max(1, fit) !== n || ids.length > budget) {
    n = Math.max(1, fit);
    ids = tokenizer.encode(join(n));
  }
  while (ids.length > budget && n > 1) ids = tokenizer.encode(join(--n));
  if (ids.length > budget) ids = end === 'tail' ? ids.slice(ids.length - budget) : ids.slice(0, budget);
  // A line cut by tokens spans all of its characters (close enough for the caller's bookkeeping).
  return { ids, chars: join(n).length };
}
