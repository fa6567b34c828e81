// Exact and near-duplicate detection. Exact: a 64-bit hash of the text with whitespace runs collapsed.
// Near: MinHash over 5-token shingles with one-permutation hashing (one hash per shingle, 128 bins,
// empty bins filled by rotation: Shrivastava & Li 2014), so it runs at scan speed; LSH with 16 bands
// of 8 rows finds candidates (a pair at Jaccard 0.85 is found with probability 0.994), and the
// signature estimate decides. The first document in build order is kept.
export const NUM_HASHES = 128;
const BANDS = 16;
const ROWS = NUM_HASHES / BANDS;
const SHINGLE = 5;
export const DEFAULT_NEAR_THRESHOLD = 0.85;
const EMPTY = 0xffffffff;

function fmix(h: number): number {
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/** Code-unit class: 0 space, 1 word character, 2 punctuation (each its own token); > 127 is a word character. */
const CHAR_CLASS = new Uint8Array(128).map((_, c) =>
  c === 32 || (c >= 9 && c <= 13) ? 0 : /[A-Za-z0-9_]/.test(String.fromCharCode(c)) ? 1 : 2,
);

export interface Fingerprint {
  /** 64-bit hash (hex) of the text with whitespace runs collapsed to one space and trimmed. */
  exact: string;
  /** MinHash signature: NUM_HASHES 32-bit values. */
  sig: Uint32Array;
}

const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 0x01000193;
const SPACED = 0x6b43a9b5; // marks a token that follows whitespace in the exact hash
const ROLL = 0x2c1b3c6d; // polynomial base of the rolling shingle hash
let ROLL_OUT = 1; // ROLL^(SHINGLE-1): the weight of the token leaving the window
for (let i = 1; i < SHINGLE; i++) ROLL_OUT = Math.imul(ROLL_OUT, ROLL);

// Token hashes of the current text, reused between calls (grown when a text needs more).
let tokenBuf = new Int32Array(1 << 16);

/** Both hashes from one pass over the text plus one over its tokens (the dedup's whole cost). */
export function fingerprint(text: string, seed: number): Fingerprint {
  if (tokenBuf.length < text.length + SHINGLE) tokenBuf = new Int32Array(text.length + SHINGLE);
  const toks = tokenBuf;
  let n = 0;
  let word = FNV_OFFSET;
  let inWord = false;
  // Exact hash: two independent 32-bit lanes over the token stream, each token marked by whether
  // whitespace came before it (not before the first): the whitespace-normalized text, token by
  // token, so the per-character work is only the word hash.
  let lo = FNV_OFFSET ^ seed;
  let hi = 0x9747b28c;
  let space = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    const cls = c < 128 ? CHAR_CLASS[c] : 1;
    if (cls === 1) {
      word = Math.imul(word ^ c, FNV_PRIME);
      inWord = true;
      continue;
    }
    if (inWord) {
      const x = space ? word ^ SPACED : word;
      lo = Math.imul(lo ^ x, FNV_PRIME);
      hi = Math.imul(hi + x, 0x5bd1e995) ^ (hi >>> 15);
      toks[n++] = word;
      inWord = false;
      word = FNV_OFFSET;
      space = false;
    }
    if (cls === 0) {
      space = n > 0;
      continue;
    }
    const t = fmix(c + 0x5bd1e995) | 0;
    const x = space ? t ^ SPACED : t;
    lo = Math.imul(lo ^ x, FNV_PRIME);
    hi = Math.imul(hi + x, 0x5bd1e995) ^ (hi >>> 15);
    toks[n++] = t;
    space = false;
  }
  if (inWord) {
    const x = space ? word ^ SPACED : word;
    lo = Math.imul(lo ^ x, FNV_PRIME);
    hi = Math.imul(hi + x, 0x5bd1e995) ^ (hi >>> 15);
    toks[n++] = word;
  }
  // Shorter than one shingle: the whole text is the one shingle (padded with zeros).
  if (n > 0 && n < SHINGLE) while (n < SHINGLE) toks[n++] = 0;

  const sig = new Uint32Array(NUM_HASHES).fill(EMPTY);
  let shingle = 0; // rolling polynomial hash of the last SHINGLE tokens
  for (let i = 0; i < n; i++) {
    const out = i >= SHINGLE ? toks[i - SHINGLE] : 0;
    shingle = (Math.imul(shingle - Math.imul(out, ROLL_OUT), ROLL) + toks[i]) | 0;
    if (i < SHINGLE - 1) continue;
    const h = fmix(shingle ^ seed);
    const bin = h & (NUM_HASHES - 1);
    const value = h >>> 7; // bits independent of the bin
    if (value < sig[bin]) sig[bin] = value;
  }
  densify(sig);
  const hex = (x: number) => (x >>> 0).toString(16).padStart(8, '0');
  return { exact: hex(fmix(lo)) + hex(fmix(hi)), sig };
}

/** Fills empty bins from the next non-empty bin to the right, offset by the distance. */
function densify(sig: Uint32Array): void {
  let first = -1;
  for (let i = 0; i < NUM_HASHES; i++) {
    if (sig[i] !== EMPTY) {
      first = i;
      break;
    }
  }
  if (first === -1) return; // no shingles at all (empty text): stays all EMPTY
  const src = Uint32Array.from(sig);
  for (let i = 0; i < NUM_HASHES; i++) {
    if (src[i] !== EMPTY) continue;
    let d = 1;
    while (src[(i + d) % NUM_HASHES] === EMPTY) d++;
    sig[i] = fmix(src[(i + d) % NUM_HASHES] + Math.imul(d, 0x27d4eb2d)) >>> 0;
  }
}

/** Fraction of agreeing bins: an unbiased estimate of the Jaccard similarity of the shingle sets. */
export function estimateJaccard(a: Uint32Array, b: Uint32Array): number {
  let same = 0;
  for (let i = 0; i < NUM_HASHES; i++) if (a[i] === b[i]) same++;
  return same / NUM_HASHES;
}

export interface DedupSummary {
  method: 'hash64-normalized-whitespace + minhash-lsh';
  threshold: number;
  numHashes: number;
  bands: number;
  shingleTokens: number;
  exactDuplicates: number;
  nearDuplicates: number;
}

export type DedupVerdict =
  { duplicate: null } | { duplicate: 'exact-duplicate' | 'near-duplicate'; of: string };

/** Decides, document by document in build order, whether each repeats one already kept. */
export class Deduper {
  private readonly exact = new Map<string, string>();
  // LSH buckets as chains through flat arrays (no array per bucket): per band, a band key -> the
  // bucket's first kept document; `next`/`last` at [doc * BANDS + band] link it in kept order.
  private readonly firsts: BandTable[] = Array.from({ length: BANDS }, () => new BandTable());
  private next = new Int32Array(1024 * BANDS);
  private last = new Int32Array(1024 * BANDS);
  /** The check that last compared each kept document (each is compared once per check). */
  private seenIn = new Int32Array(1024);
  private checks = 0;
  private readonly kept: { id: string; sig: Uint32Array }[] = [];
  private exactCount = 0;
  private nearCount = 0;

  constructor(
    readonly threshold = DEFAULT_NEAR_THRESHOLD,
    private readonly near = true,
  ) {}

  check(id: string, hash: string, sig: Uint32Array): DedupVerdict {
    const same = this.exact.get(hash);
    if (same !== undefined) {
      this.exactCount++;
      return { duplicate: 'exact-duplicate', of: same };
    }
    if (this.near) {
      bandKeys(sig, keyBuf);
      const check = ++this.checks;
      for (let b = 0; b < BANDS; b++) {
        const first = this.firsts[b].get(keyBuf[b]);
        if (first === -1) continue;
        for (let k = first; k !== -1; k = this.next[k * BANDS + b]) {
          if (this.seenIn[k] === check) continue;
          this.seenIn[k] = check;
          if (estimateJaccard(sig, this.kept[k].sig) >= this.threshold) {
            this.nearCount++;
            return { duplicate: 'near-duplicate', of: this.kept[k].id };
          }
        }
      }
    }
    this.exact.set(hash, id);
    if (this.near) {
      const index = this.kept.push({ id, sig }) - 1;
      this.grow(index + 1);
      for (let b = 0; b < BANDS; b++) {
        const at = index * BANDS + b;
        this.next[at] = -1;
        const first = this.firsts[b].get(keyBuf[b]);
        if (first === -1) {
          this.firsts[b].set(keyBuf[b], index);
          this.last[at] = index;
        } else {
          const tail = this.last[first * BANDS + b];
          this.next[tail * BANDS + b] = index;
          this.last[first * BANDS + b] = index;
        }
      }
    }
    return { duplicate: null };
  }

  private grow(docs: number): void {
    if (docs <= this.seenIn.length) return;
    const more = (a: Int32Array, n: number) => {
      const b = new Int32Array(n);
      b.set(a);
      return b;
    };
    const n = this.seenIn.length * 2;
    this.seenIn = more(this.seenIn, n);
    this.next = more(this.next, n * BANDS);
    this.last = more(this.last, n * BANDS);
  }

  summary(): DedupSummary {
    return {
      method: 'hash64-normalized-whitespace + minhash-lsh',
      threshold: this.threshold,
      numHashes: NUM_HASHES,
      bands: BANDS,
      shingleTokens: SHINGLE,
      exactDuplicates: this.exactCount,
      nearDuplicates: this.nearCount,
    };
  }
}

const keyBuf = new Int32Array(BANDS);

/** Band key (30 bits, so never -1) -> first kept document: open addressing over typed arrays. */
class BandTable {
  private keys = new Int32Array(1024);
  private values = new Int32Array(1024).fill(-1);
  private size = 0;

  /** The document stored for `key`, or -1. */
  get(key: number): number {
    const mask = this.keys.length - 1;
    for (let i = fmix(key) & mask; ; i = (i + 1) & mask) {
      const v = this.values[i];
      if (v === -1 || this.keys[i] === key) return v;
    }
  }

  /** Stores `value` for a key not stored yet. */
  set(key: number, value: number): void {
    if ((this.size + 1) * 2 > this.keys.length) this.grow();
    this.size++;
    this.place(key, value);
  }

  private place(key: number, value: number): void {
    const mask = this.keys.length - 1;
    let i = fmix(key) & mask;
    while (this.values[i] !== -1) i = (i + 1) & mask;
    this.keys[i] = key;
    this.values[i] = value;
  }

  private grow(): void {
    const { keys, values } = this;
    this.keys = new Int32Array(keys.length * 2);
    this.values = new Int32Array(keys.length * 2).fill(-1);
    for (let i = 0; i < keys.length; i++) if (values[i] !== -1) this.place(keys[i], values[i]);
  }
}

/** One key per band (30 bits: small integers make cheap Map keys; a collision only adds a candidate). */
function bandKeys(sig: Uint32Array, keys: Int32Array): void {
  for (let b = 0; b < BANDS; b++) {
    let h = b;
    for (let r = 0; r < ROWS; r++) h = Math.imul(h ^ sig[b * ROWS + r], 0x01000193);
    keys[b] = fmix(h) & 0x3fffffff;
  }
}
