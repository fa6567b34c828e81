/**
 * Inline completions over a Decoder: the prompt around the cursor (prompt.ts), KV-cached decoding
 * that reuses the previous request's prompt prefix, stop rules checked on every new token
 * (stops.ts), and post-processing of the kept text. One request runs at a time; a newer request
 * supersedes the running one, which stops before its next token.
 */

/** What the editor asks for: the text around the cursor. */
export interface CompletionRequest {
  /** The document's text before the cursor. */
  prefix: string;
  /** The document's text after the cursor. */
  suffix: string;
  languageId: string;
  /** New tokens at most (default: 48 single-line, 128 multi-line). */
  maxTokens?: number;
  /** 'auto' (default): multi-line on an empty line after a block opener, else one line. */
  multiline?: 'auto' | 'single' | 'multi';
  /** Generation stops after this long (default 2000 ms); the text so far is kept. */
  timeBudgetMs?: number;
}

/** Why generation ended. */
export type CompletionStop =
  /** End of sequence, or a FIM end / file separator token. */
  | 'eos'
  /** Single-line mode: the line ended. */
  | 'line'
  /** Multi-line mode: a line dedented below the starting indentation (the block ended). */
  | 'dedent'
  | 'max_tokens'
  | 'context'
  | 'time'
  /** The caller's signal aborted. */
  | 'cancelled'
  /** A newer request arrived. */
  | 'superseded'
  /** Nothing to complete from (an empty document). */
  | 'empty';

export interface Completion {
  /** The text to insert at the cursor (may be empty: nothing worth showing). */
  text: string;
  stop: CompletionStop;
  /** Why a generated text was dropped or shortened in post-processing, for the log. */
  note?: string;
  promptTokens: number;
  /** Prompt tokens whose keys and values came from the previous request. */
  reusedTokens: number;
  /** From the call to the first new token (NaN when none). */
  firstTokenMs: number;
  /** From the call to the result. */
  latencyMs: number;
}
