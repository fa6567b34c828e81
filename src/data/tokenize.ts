// Samples -> token ids and loss weights. Byte-level BPE (GPT-2, Qwen2, Llama 3, StarCoder) encodes
// each pre-token on its own, so when tokenizer.json shows such a pipeline (a regex pre-tokenizer,
// no normalizer, no prefix space) the text is cut into pre-tokens here with the same regex and each
// distinct pre-token is encoded once (a memo: code repeats its words). Otherwise text is cut into
// chunks after each lone "\n" between two visible characters (where byte-level pre-tokenizers
// always split) and repeated chunks are encoded once. Either way the ids are checked to equal
// whole-text encoding on probe texts when the encoder is made; a tokenizer that fails (e.g.
// SentencePiece, which marks the start of the text) is called on whole texts instead. Texts that
// contain an added token's spelling go through the chunked or whole path (added tokens split first).
import type { Tokenizer } from '../engine/tokenizer/tokenizer';
import type { Sample } from './formats/sample';

export interface Encoded {
  ids: number[];
  weights: number[];
}

const MEMO_LIMIT = 100_000;
const PRE_TOKEN_MEMO_LIMIT = 500_000;
const PROBES = [
  'import os\nimport sys\n\ndef main():\n    return 1\n\nclass A:\n    pass\n',
  'x = 1;\n}\n\n  // note\nfoo();\n\t\tbar\n\r\nbaz\n',
  'line one\nline two\n\n\n# heading\n- item\n  - sub\nend',
  'é\n😀 emoji\n中文\nnext\n',
  "  It's 3.14159 o'clock;   they'll   've  'S  x123y \t\n\n  \u00a0nbsp\u2003em  \r\n\r\n  ",
  'naïve café Ünïcödé ΑΒΓ абв עברית العربية हिन्दी 日本語 한국어 🇺🇳👩‍👩‍👧 \u0301x',
  '    def f(self):  # 4 spaces, then 2\n        return {"a": [1, 2, 3]}  \n\t\n',
];

/** GPT-2's pre-tokenizer (tokenizers' ByteLevel with use_regex). */
const GPT2_PATTERN = /'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+/gu;

export interface PreTokenizer {
  /** Global regex; its matches and the gaps between them are the pre-tokens. */
  pattern: RegExp;
  /** Spellings of added tokens: a text containing one is encoded without the pre-token memo. */
  added: string[];
}

/**
 * The pre-tokenizer of a tokenizer.json when ids are a pure function of each pre-token (byte-level
 * BPE after a regex split, no normalizer, no prefix space), else null.
 */
export function preTokenizerOf(tokenizerJson: unknown): PreTokenizer | null {
  type Json = Record<string, unknown> | null | undefined;
  const j = tokenizerJson as Json;
  if (!j || typeof j !== 'object') return null;
  const model = j.model as Json;
  if (j.normalizer != null || model?.type !== 'BPE') return null;
  const added = ((j.added_tokens as Json[] | undefined) ?? [])
    .map((t) => t?.content)
    .filter((c): c is string => typeof c === 'string' && c.length > 0);
  const pre = j.pre_tokenizer as Json;
  const plainByteLevel = (p: Json, useRegex: boolean) =>
    p?.type === 'ByteLevel' && !p.add_prefix_space && (p.use_regex ?? true) === useRegex;
  if (plainByteLevel(pre, true)) return { pattern: GPT2_PATTERN, added };
  if (pre?.type !== 'Sequence') return null;
  const [split, byteLevel, ...rest] = (pre.pretokenizers as Json[] | undefined) ?? [];
  const regex = (split?.pattern as Json)?.Regex;
  if (
    rest.length > 0 ||
    split?.type !== 'Split' ||
    split.behavior !== 'Isolated' ||
    split.invert ||
    typeof regex !== 'string' ||
    !plainByteLevel(byteLevel, false)
  )
    return null;
  try {
    return { pattern: new RegExp(regex, 'gu'), added };
  } catch {
    return null; // a regex JavaScript cannot parse (e.g. inline flags): the chunked path decides
  }
}

export class SampleEncoder {
  /** True when chunked encoding was verified to equal whole-text encoding for this tokenizer. */
  readonly chunked: boolean;
  /** The pre-token memo, when the tokenizer is byte-level BPE and the check on probes passed. */
  readonly preTokenizer: PreTokenizer | null;
  private readonly memo = new Map<string, number[]>();
  private readonly preTokenMemo = new Map<string, number[]>();

  /** `tokenizerJson`: the parsed tokenizer.json, which tells whether the pre-token memo applies. */
  constructor(
    private readonly tokenizer: Tokenizer,
    private readonly eosId: number,
    tokenizerJson?: unknown,
  ) {
    this.chunked = PROBES.every((p) => sameIds(this.encodeChunked(p), tokenizer.encode(p)));
    this.memo.clear();
    const pre = tokenizerJson === undefined ? null : preTokenizerOf(tokenizerJson);
    this.preTokenizer =
      pre && PROBES.every((p) => sameIds(this.encodePreTokens(p, pre), tokenizer.encode(p))) ? pre : null;
    this.preTokenMemo.clear();
  }

  encodeText(text: string): number[] {
    const pre = this.preTokenizer;
    if (pre && !pre.added.some((a) => text.includes(a))) return this.encodePreTokens(text, pre);
    return this.chunked ? this.encodeChunked(text) : this.tokenizer.encode(text);
  }

  /**
   * The sample's ids followed by EOS; EOS has loss when anything in the sample has. Text and FIM
   * samples start with the tokenizer's prefix ids (a BOS where its config adds one), without loss,
   * as transformers' tokenizer would encode the text; chat samples carry their template's own.
   */
  encode(sample: Sample): Encoded {
    const ids: number[] = sample.templated ? [] : [...this.tokenizer.prefixIds];
    const weights: number[] = ids.map(() => 0);
    let anyLoss = false;
    for (const seg of sample) {
      const segIds = 'ids' in seg ? seg.ids : this.encodeText(seg.text);
      for (const id of segIds) ids.push(id);
      for (let i = 0; i < segIds.length; i++) weights.push(seg.loss ? 1 : 0);
      anyLoss ||= seg.loss && segIds.length > 0;
    }
    ids.push(this.eosId);
    weights.push(anyLoss ? 1 : 0);
    return { ids, weights };
  }

  private encodePreTokens(text: string, pre: PreTokenizer): number[] {
    const out: number[] = [];
    const re = pre.pattern;
    re.lastIndex = 0;
    let pos = 0;
    for (let m = re.exec(text); m; m = re.exec(text)) {
      if (m[0].length === 0) {
        re.lastIndex++; // an empty match splits nothing
        continue;
      }
      if (m.index > pos)
        this.memoized(this.preTokenMemo, PRE_TOKEN_MEMO_LIMIT, text.slice(pos, m.index), out);
      this.memoized(this.preTokenMemo, PRE_TOKEN_MEMO_LIMIT, m[0], out);
      pos = m.index + m[0].length;
    }
    if (pos < text.length) this.memoized(this.preTokenMemo, PRE_TOKEN_MEMO_LIMIT, text.slice(pos), out);
    return out;
  }

  private encodeChunked(text: string): number[] {
    const out: number[] = [];
    let start = 0;
    for (let nl = text.indexOf('\n'); nl !== -1 && nl + 1 < text.length; nl = text.indexOf('\n', nl + 1)) {
      // Only a lone "\n" between two visible characters: a longer whitespace run is split differently.
      if (isSpace(text.charCodeAt(nl + 1)) || nl === 0 || isSpace(text.charCodeAt(nl - 1))) continue;
      this.memoized(this.memo, MEMO_LIMIT, text.slice(start, nl + 1), out);
      start = nl + 1;
    }
    if (start < text.length) this.memoized(this.memo, MEMO_LIMIT, text.slice(start), out);
    return out;
  }

  /** Appends the ids of `text`, encoding it only when the memo lacks it. */
  private memoized(memo: Map<string, number[]>, limit: number, text: string, out: number[]): void {
    let ids = memo.get(text);
    if (!ids) {
      ids = this.tokenizer.encode(text);
      if (memo.size >= limit) memo.clear();
      memo.set(text, ids);
    }
    for (let i = 0; i < ids.length; i++) out.push(ids[i]);
  }
}

function isSpace(c: number): boolean {
  return c === 32 || c === 9 || c === 10 || c === 13 || c === 11 || c === 12;
}

function sameIds(a: number[], b: number[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}
