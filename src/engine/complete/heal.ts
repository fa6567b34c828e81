/**
 * Token healing. A prompt cut at the cursor often ends inside what the model would have written as
 * one token: `const best = ` ends in a lone space token, where training text had ` if` (space and
 * word in one token), so the model, seeing the space, starts its answer with another (` if` after
 * `= ` — a doubled space); after an indentation the spaces are split unlike any training text, and
 * the model often gives nothing. Healing backs off the prompt's last token and makes the first
 * generated token(s) spell the removed text again: each must agree with what is left of it (start
 * with it, or be a prefix of it). The completion then begins where the model's own tokens do, and
 * the removed text is taken off the front of what it generates.
 */
import type { Tokenizer } from '../tokenizer/tokenizer';

/** Token ids sorted by their texts (empty texts left out), and each text's ids. */
interface TextIndex {
  ids: Int32Array;
  byText: Map<string, number[]>;
}

/** The first index in [0, n) where `before` turns false (it is true, then false, along the array). */
function firstNot(n: number, before: (i: number) => boolean): number {
  let [lo, hi] = [0, n];
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (before(mid)) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

export class TokenHealer {
  /** Each token id's text as it reads after other text (null until first needed). */
  private texts: string[] | null = null;
  private index: TextIndex | null = null;

  constructor(private readonly tokenizer: Tokenizer) {}

  /** The vocabulary's texts, decoded once (a few hundred ms; the completer does it in its warm-up). */
  prepare(): string[] {
    if (this.texts) return this.texts;
    const t = this.tokenizer;
    // Byte-level tokenizers decode a token alone as it reads anywhere; SentencePiece ones drop a
    // leading space at the start of a text, so those decode behind an anchor token.
    const probe = t.encode(' a');
    const alone = probe.length === 1 && t.decode(probe) === ' a';
    const anchor = t.encode('a').slice(-1);
    const anchorText = t.decode(anchor);
    const texts: string[] = new Array(t.vocabSize);
    for (let id = 0; id < t.vocabSize; id++) {
      const s = alone ? t.decode([id]) : t.decode([...anchor, id]).slice(anchorText.length);
      // A partial UTF-8 character never matches text the user typed.
      texts[id] = s.includes('\uFFFD') ? '' : s;
    }
    this.texts = texts;
    const ids = Int32Array.from(texts.keys()).filter((id) => texts[id] !== '');
    ids.sort((a, b) => (texts[a] < texts[b] ? -1 : texts[a] > texts[b] ? 1 : 0));
    const byText = new Map<string, number[]>();
    for (const id of ids) {
      const same = byText.get(texts[id]);
      if (same) same.push(id);
      else byText.set(texts[id], [id]);
    }
    this.index = { ids, byText };
    return texts;
  }

  /**
   * Backs off the token at `at` in `ids` (the prompt's last text token): the ids without it and its
   * text, or null when it is not worth healing (a special token, or nothing would be left).
   */
  backOff(ids: readonly number[], at: number): { ids: number[]; tail: string } | null {
    if (at < 0 || at >= ids.length) return null;
    const tail = this.prepare()[ids[at]] ?? '';
    if (tail === '' || /^<[|a-z_]+.*>$/i.test(tail)) return null;
    const kept = [...ids.slice(0, at), ...ids.slice(at + 1)];
    if (kept.length === 0) return null;
    return { ids: kept, tail };
  }

  /**
   * Sets to -Infinity the logits of tokens that disagree with `rest` (the part of the removed text
   * not generated yet). Leaves them as they are when no token agrees (never an impossible choice).
   */
  constrain(logits: Float32Array, rest: string): void {
    const texts = this.prepare();
    const { ids, byText } = this.index!;
    // The tokens that start with `rest` are one run of the sorted texts; those it starts with are
    // its own prefixes, looked up. A scan of every token's text per call (SmolLM2's 49,152) took
    // ~1 ms once V8 had optimised it, several times that in its first ~40 calls (~29 ms beside a
    // training job), and a worker heals once or twice per request.
    const lo = firstNot(ids.length, (i) => texts[ids[i]] < rest);
    const hi = firstNot(ids.length, (i) => texts[ids[i]] < rest || texts[ids[i]].startsWith(rest));
    const run = ids.subarray(lo, hi);
    const prefixes: number[] = [];
    for (let n = 1; n < rest.length; n++) prefixes.push(...(byText.get(rest.slice(0, n)) ?? []));
    if (run.length === 0 && prefixes.length === 0) return;
    const kept = new Float32Array(run.length);
    for (let i = 0; i < run.length; i++) kept[i] = logits[run[i]];
    const keptPrefixes = prefixes.map((id) => logits[id]);
    logits.fill(-Infinity);
    for (let i = 0; i < run.length; i++) logits[run[i]] = kept[i];
    prefixes.forEach((id, i) => (logits[id] = keptPrefixes[i]));
  }

  /** What is left of `rest` to spell after token `id`. */
  advance(rest: string, id: number): string {
    const t = this.prepare()[id] ?? '';
    return t.startsWith(rest) ? '' : rest.startsWith(t) && t !== '' ? rest.slice(t.length) : '';
  }
}

/**
 * The generated text without the healed tail in front. A tokenizer that drops a leading space when
 * decoding the start of a text gives the tail without it, so that form is taken off too.
 */
export function stripTail(text: string, tail: string): string {
  if (text.startsWith(tail)) return text.slice(tail.length);
  const bare = tail.trimStart();
  return bare && text.startsWith(bare) ? text.slice(bare.length) : text;
}
