// Fill-in-the-middle as StarCoder trained it (Bavarian et al. 2022): with probability fimRate a
// piece of a document is cut at two random character positions into prefix/middle/suffix and laid
// out PSM (<prefix>P<suffix>S<middle>M) or, with probability spmRate, SPM (<prefix><suffix>S<middle>PM),
// each part tokenized on its own. Every token, markers included, carries loss.
// A document longer than FIM_PIECE_CHARS is first cut at line ends into pieces, each rearranged or
// not on its own (the paper's context-level FIM): a whole-file FIM example is thousands of tokens,
// so a training window of a few hundred holds its middle but not the prefix it follows, and a model
// trained that way never learns to fill in from P and S (the starter's PSM completions ignored the
// cursor's line until its data was cut this way).
import type { Tokenizer } from '../engine/tokenizer/tokenizer';
import type { Rng } from '../engine/rng';
import type { Sample } from './formats/sample';
import type { FimTokens } from '../engine/tokenizer/fimTokens';

export interface FimOptions {
  fimRate: number;
  spmRate: number;
}

/** About a training window of code (~3.5 characters a token): the longest piece rearranged whole. */
export const FIM_PIECE_CHARS = 1200;

/**
 * The document as pieces of at most FIM_PIECE_CHARS (whole lines; a longer line is a piece of its
 * own), each with probability fimRate its FIM rearrangement; runs of plain pieces stay one text
 * segment. `rng` should be per document.
 */
export function fimSample(
  text: string,
  fim: FimTokens | null,
  opts: FimOptions,
  rng: Rng,
  tokenizer: Tokenizer,
): Sample {
  if (!fim) return [{ text, loss: true }];
  const sample: Sample = [];
  for (const piece of pieces(text)) {
    if (rng.next() < opts.fimRate) sample.push(fimPiece(piece, fim, opts, rng, tokenizer));
    else if (sample.length && 'text' in sample[sample.length - 1])
      (sample[sample.length - 1] as { text: string }).text += piece;
    else sample.push({ text: piece, loss: true });
  }
  return sample.length ? sample : [{ text, loss: true }];
}

/** Whole lines, gathered up to FIM_PIECE_CHARS a piece; concatenated they are `text`. */
function pieces(text: string): string[] {
  if (text.length <= FIM_PIECE_CHARS) return [text];
  const out: string[] = [];
  let piece = '';
  for (const line of text.split(/(?<=\n)/)) {
    if (piece && piece.length + line.length > FIM_PIECE_CHARS) {
      out.push(piece);
      piece = '';
    }
    piece += line;
  }
  if (piece) out.push(piece);
  return out;
}

function fimPiece(text: string, fim: FimTokens, opts: FimOptions, rng: Rng, tokenizer: Tokenizer) {
  let a = cutPoint(text, rng.nextInt(text.length + 1));
  let b = cutPoint(text, rng.nextInt(text.length + 1));
  if (a > b) [a, b] = [b, a];
  const prefix = tokenizer.encode(text.slice(0, a));
  const middle = tokenizer.encode(text.slice(a, b));
  const suffix = tokenizer.encode(text.slice(b));
  const ids =
    rng.next() < opts.spmRate
      ? [fim.prefix, fim.suffix, ...suffix, fim.middle, ...prefix, ...middle]
      : [fim.prefix, ...prefix, fim.suffix, ...suffix, fim.middle, ...middle];
  return { ids, loss: true };
}

/** Never cut between the two halves of a surrogate pair: each piece must be valid text. */
function cutPoint(text: string, i: number): number {
  const c = text.charCodeAt(i);
  return c >= 0xdc00 && c <= 0xdfff && i > 0 ? i - 1 : i;
}

/**
 * Restores the document from a FIM sample's ids (the inverse of fimSample): decodes the pieces
 * between the markers and puts them back in order. For tests and `dataset show`.
 */
export function unFim(ids: number[], fim: FimTokens, tokenizer: Tokenizer): string | null {
  if (ids[0] !== fim.prefix) return null;
  const m = ids.indexOf(fim.middle);
  if (ids[1] === fim.suffix) {
    // SPM: <prefix><suffix> S <middle> P M — prefix and middle were encoded apart but decode as one run
    return tokenizer.decode(ids.slice(m + 1)) + tokenizer.decode(ids.slice(2, m));
  }
  const s = ids.indexOf(fim.suffix);
  if (s === -1 || m === -1 || s > m) return null;
  return (
    tokenizer.decode(ids.slice(1, s)) +
    tokenizer.decode(ids.slice(m + 1)) +
    tokenizer.decode(ids.slice(s + 1, m))
  );
}
