/**
 * How close a completion came to what the developer wrote: exact match, character-level edit
 * similarity, and the characters a user would accept (the longest common prefix: the part of the
 * suggestion that is right before its first wrong character).
 */

/** Trailing whitespace never decides a match: editors trim it, and a completion may end at '\n'. */
export function normalizeCompletion(text: string): string {
  return text.replace(/\s+$/, '');
}

export function exactMatch(completion: string, expected: string): boolean {
  return normalizeCompletion(completion) === normalizeCompletion(expected);
}

/** Length of the longest common prefix, in UTF-16 code units. */
export function acceptedChars(completion: string, expected: string): number {
  const a = normalizeCompletion(completion);
  const b = normalizeCompletion(expected);
  let n = 0;
  while (n < a.length && n < b.length && a.charCodeAt(n) === b.charCodeAt(n)) n++;
  return n;
}

/** Levenshtein distance over characters, two rows of memory. */
export function editDistance(a: string, b: string): number {
  if (a.length < b.length) [a, b] = [b, a];
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  let row = new Array<number>(b.length + 1);
  for (let i = 1; i <= a.length; i++) {
    row[0] = i;
    const ca = a.charCodeAt(i - 1);
    for (let j = 1; j <= b.length; j++) {
      const sub = prev[j - 1] + (ca === b.charCodeAt(j - 1) ? 0 : 1);
      row[j] = Math.min(sub, prev[j] + 1, row[j - 1] + 1);
    }
    [prev, row] = [row, prev];
  }
  return prev[b.length];
}

/** 1 − distance / longer length: 1 for identical texts, 0 for nothing in common (both empty: 1). */
export function editSimilarity(completion: string, expected: string): number {
  const a = normalizeCompletion(completion);
  const b = normalizeCompletion(expected);
  const longer = Math.max(a.length, b.length);
  return longer === 0 ? 1 : 1 - editDistance(a, b) / longer;
}

/** The value at quantile q (0..1) of `values`, nearest rank; NaN when empty. */
export function quantile(values: readonly number[], q: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((x, y) => x - y);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))];
}

export function mean(values: readonly number[]): number {
  return values.length === 0 ? NaN : values.reduce((a, b) => a + b, 0) / values.length;
}
