// Fill-in-the-middle as StarCoder trained it (Bavarian et al. 2022): with probability fimRate a
// document is cut at two random character positions into prefix/middle/suffix and laid out
// PSM (<prefix>P<suffix>S<middle>M) or, with probability spmRate, SPM (<prefix><suffix>S<middle>PM),
// each piece tokenized on its own. Every token, markers included, carries loss.
import type { Tokenizer } from '../engine/tokenizer/tokenizer';
import type { Rng } from '../engine/rng';
import type { Sample } from './formats/sample';
import type { FimTokens } from '../engine/tokenizer/fimTokens';

export interface FimOptions {
  fimRate: number;
  spmRate: number;
}

/** A plain sample, or with probability fimRate its FIM rearrangement. `rng` should be per document. */
export function fimSample(
  text: string,
  fim: FimTokens | null,
  opts: FimOptions,
  rng: Rng,
  tokenizer: Tokenizer,
): Sample {
  if (!fim || rng.next() >= opts.fimRate) return [{ text, loss: true }];
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
  return [{ ids, loss: true }];
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
