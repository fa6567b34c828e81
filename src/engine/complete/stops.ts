/**
 * When a completion ends and what of it is shown. Pure functions over text, shared by the
 * completion worker and evaluation:
 * - cursorContext: one line by default; several when the cursor sits on an empty line after a
 *   block opener (`{`, `(`, `[`, `:`, `=>`, `do`, `then` … at the end of the line above);
 * - StopRules: fed the generated text piece by piece, says when to stop (the line ended; a line
 *   dedented below the starting indentation, or back to the opener's) and what text is kept;
 * - stopTokenIds: EOS and the FIM end / file separator tokens a model has;
 * - postProcess: trims trailing whitespace, drops a suggestion that only repeats the text after the
 *   cursor, and does not repeat closing brackets or quotes that already follow the cursor.
 */
import type { Tokenizer } from '../tokenizer/tokenizer';

export interface CursorContext {
  multiline: boolean;
  /** The cursor's line up to the cursor. */
  lineBefore: string;
  /** The cursor's line after the cursor. */
  lineAfter: string;
  /** The indentation width of the block opener's line when multi-line after an opener, else null. */
  openerIndent: number | null;
}

/** Tokens that end a completion when the model has them (besides its EOS). */
export const END_TOKENS = [
  '<|endoftext|>',
  '<fim_pad>',
  '<|fim_pad|>',
  '<file_sep>',
  '<|file_sep|>',
  '<|im_end|>',
  '<|repo_name|>',
  '<filename>',
  '<fim_prefix>',
  '<fim_suffix>',
  '<fim_middle>',
  '<|fim_prefix|>',
  '<|fim_suffix|>',
  '<|fim_middle|>',
  '<|end_of_text|>',
  '<|eot_id|>',
  '</s>',
];

/** EOS ids plus every END_TOKENS entry the tokenizer knows. */
export function stopTokenIds(tokenizer: Tokenizer, eosIds: readonly number[] = []): number[] {
  const ids = new Set(eosIds);
  if (tokenizer.eosId !== null) ids.add(tokenizer.eosId);
  for (const t of END_TOKENS) {
    const id = tokenizer.tokenId(t);
    if (id !== undefined) ids.add(id);
  }
  return [...ids];
}

const OPENER_WORDS = ['do', 'then', 'else', 'begin'];

/** Whether a line ends by opening a block (trailing whitespace ignored). */
export function endsWithBlockOpener(line: string): boolean {
  const t = line.trimEnd();
  if (/[{([:]$/.test(t) || t.endsWith('=>') || t.endsWith('->')) return true;
  const word = /(?:^|[^\w$])(\w+)$/.exec(t)?.[1];
  return word !== undefined && OPENER_WORDS.includes(word);
}

/** Columns of leading whitespace (a tab counts 4). */
export function indentWidth(line: string): number {
  let w = 0;
  for (const ch of line) {
    if (ch === ' ') w++;
    else if (ch === '\t') w += 4;
    else break;
  }
  return w;
}

/** Where the cursor sits and whether the completion may span lines. */
export function cursorContext(
  prefix: string,
  suffix: string,
  mode: 'auto' | 'single' | 'multi' = 'auto',
): CursorContext {
  const lineStart = prefix.lastIndexOf('\n') + 1;
  const lineBefore = prefix.slice(lineStart);
  const newline = suffix.indexOf('\n');
  const lineAfter = newline === -1 ? suffix : suffix.slice(0, newline);
  // The nearest non-blank line above the cursor's.
  let above = '';
  for (let end = lineStart - 1; end > 0 && above.trim() === '';) {
    const start = prefix.lastIndexOf('\n', end - 1) + 1;
    above = prefix.slice(start, end);
    end = start - 1;
  }
  const afterOpener =
    lineBefore.trim() === '' && lineAfter.trim() === '' && above !== '' && endsWithBlockOpener(above);
  const multiline = mode === 'multi' || (mode === 'auto' && afterOpener);
  return {
    multiline,
    lineBefore,
    lineAfter,
    openerIndent: multiline && afterOpener ? indentWidth(above) : null,
  };
}

export type RuleStop = 'line' | 'dedent';

/**
 * Incremental stop rules: `push` each new piece of generated text; it returns why to stop once a
 * rule fires (later pushes are ignored). `text` is what is kept: the generated text up to the line
 * that ended it, without that line's newline.
 */
export class StopRules {
  private generated = '';
  private kept: string | null = null;
  /** Lines (by index in the generated text) already judged. */
  private judged = 0;
  private startIndent: number | null = null;
  stop: RuleStop | null = null;

  constructor(private readonly ctx: CursorContext) {}

  get text(): string {
    return this.kept ?? this.generated;
  }

  push(piece: string): RuleStop | null {
    if (this.stop) return this.stop;
    this.generated += piece;
    const lines = this.generated.split('\n');
    if (!this.ctx.multiline) {
      if (lines.length > 1) this.end('line', lines[0]);
      return this.stop;
    }
    // A line's indentation is known once it has a non-blank character.
    for (let i = this.judged; i < lines.length; i++) {
      const full = i === 0 ? this.ctx.lineBefore + lines[0] : lines[i];
      if (full.trim() === '') {
        if (i < lines.length - 1) this.judged = i + 1; // a finished blank line never stops
        continue;
      }
      const indent = indentWidth(full);
      const opener = this.ctx.openerIndent;
      if (opener !== null && indent <= opener) {
        // Back at the opener's level: the block is over (an empty block keeps nothing).
        this.end('dedent', lines.slice(0, i).join('\n'));
        break;
      }
      if (this.startIndent === null) this.startIndent = indent;
      else if (indent < this.startIndent) {
        this.end('dedent', lines.slice(0, i).join('\n'));
        break;
      }
      this.judged = i + 1;
    }
    return this.stop;
  }

  private end(stop: RuleStop, kept: string): void {
    this.stop = stop;
    this.kept = kept;
  }
}

/** The stop rules over a whole generated text at once (evaluation, tests). */
export function applyStopRules(text: string, ctx: CursorContext): { text: string; stop: RuleStop | null } {
  const rules = new StopRules(ctx);
  const stop = rules.push(text);
  return { text: rules.text, stop };
}

const CLOSERS = new Set([...')]}"\'`;,']);

/**
 * The text to show for a generated `text` at a cursor with `suffix` after it, and why it was
 * shortened or dropped. Empty text means nothing worth showing.
 */
export function postProcess(
  text: string,
  ctx: Pick<CursorContext, 'lineBefore' | 'lineAfter'> & { suffix: string },
): { text: string; note?: string } {
  let out = dropOverlap(text, ctx.lineBefore)
    .split('\n')
    .map((l) => l.trimEnd())
    .join('\n')
    .trimEnd();
  if (out.trim() === '') return { text: '', note: 'the model produced only whitespace' };
  if (repeatsSuffix(out, ctx)) return { text: '', note: 'it only repeats the text after the cursor' };
  // Closing brackets, quotes and semicolons the line already has after the cursor.
  const after = ctx.lineAfter;
  for (let k = Math.min(out.length, after.length); k > 0; k--) {
    const run = after.slice(0, k);
    if ([...run].every((c) => CLOSERS.has(c)) && out.endsWith(run)) {
      out = out.slice(0, out.length - k).trimEnd();
      if (out === '') return { text: '', note: 'it only repeats the text after the cursor' };
      return { text: out, note: `kept "${run}" from after the cursor instead of repeating it` };
    }
  }
  return { text: out };
}

/**
 * `text` without the spaces or tabs at its start that the line before the cursor already ends with:
 * inserted after `const best = `, ` if (…` would leave two spaces (a prompt ending in a space, and
 * a model whose tokens begin with one). Token healing (heal.ts) avoids most; this is the rule
 * for the rest.
 */
export function dropOverlap(text: string, lineBefore: string): string {
  const trailing = /[ \t]*$/.exec(lineBefore)![0];
  // On a blank line the text's own indentation is the model's choice (a deeper block), kept.
  if (!trailing || lineBefore.trim() === '') return text;
  const leading = /^[ \t]*/.exec(text)![0];
  return text.slice(Math.min(leading.length, trailing.length));
}

/** Whether inserting `text` would only duplicate what follows the cursor (whitespace aside). */
function repeatsSuffix(text: string, ctx: { lineBefore: string; suffix: string }): boolean {
  const squash = (s: string) => s.replace(/\s+/g, ' ').trim();
  const t = squash(text);
  if (squash(ctx.suffix.slice(0, text.length * 4 + 200)).startsWith(t)) return true;
  // On a blank line, a first line equal to the next non-blank line below is a repeat too.
  if (ctx.lineBefore.trim() !== '') return false;
  const next = ctx.suffix.split('\n').find((l) => l.trim() !== '');
  return next !== undefined && squash(text.split('\n')[0]) === squash(next);
}
