// Samples -> token ids and loss weights. Text is cut into chunks after each lone "\n" between two
// visible characters (where byte-level BPE pre-tokenizers such as GPT-2's and Qwen2's always split)
// and repeated chunks (imports, closing braces, boilerplate blocks) are encoded once. Whether this
// gives exactly the ids of encoding the whole text is checked on probe texts when the encoder is
// made; a tokenizer that fails the check (e.g. SentencePiece, which marks the start of the text) is
// called on whole texts instead.
import type { Tokenizer } from '../engine/io/tokenizer';
import type { Sample } from './formats/sample';

export interface Encoded {
  ids: number[];
  weights: number[];
}

const MEMO_LIMIT = 100_000;
const PROBES = [
  'import os\nimport sys\n\ndef main():\n    return 1\n\nclass A:\n    pass\n',
  'x = 1;\n}\n\n  // note\nfoo();\n\t\tbar\n\r\nbaz\n',
  'line one\nline two\n\n\n# heading\n- item\n  - sub\nend',
  'é\n😀 emoji\n中文\nnext\n',
];

export class SampleEncoder {
  /** True when chunked encoding was verified to equal whole-text encoding for this tokenizer. */
  readonly chunked: boolean;
  private readonly memo = new Map<string, number[]>();

  constructor(
    private readonly tokenizer: Tokenizer,
    private readonly eosId: number,
  ) {
    this.chunked = PROBES.every((p) => sameIds(this.encodeChunked(p), tokenizer.encode(p)));
    this.memo.clear();
  }

  encodeText(text: string): number[] {
    return this.chunked ? this.encodeChunked(text) : this.tokenizer.encode(text);
  }

  /** The sample's ids followed by EOS; EOS has loss when anything in the sample has. */
  encode(sample: Sample): Encoded {
    const ids: number[] = [];
    const weights: number[] = [];
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

  private encodeChunked(text: string): number[] {
    const out: number[] = [];
    let start = 0;
    for (let nl = text.indexOf('\n'); nl !== -1 && nl + 1 < text.length; nl = text.indexOf('\n', nl + 1)) {
      // Only a lone "\n" between two visible characters: a longer whitespace run is split differently.
      if (isSpace(text.charCodeAt(nl + 1)) || nl === 0 || isSpace(text.charCodeAt(nl - 1))) continue;
      this.encodeChunk(text.slice(start, nl + 1), out);
      start = nl + 1;
    }
    if (start < text.length) this.encodeChunk(text.slice(start), out);
    return out;
  }

  private encodeChunk(chunk: string, out: number[]): void {
    let ids = this.memo.get(chunk);
    if (!ids) {
      ids = this.tokenizer.encode(chunk);
      if (this.memo.size >= MEMO_LIMIT) this.memo.clear();
      this.memo.set(chunk, ids);
    }
    for (const id of ids) out.push(id);
  }
}

function isSpace(c: number): boolean {
  return c === 32 || c === 9 || c === 10 || c === 13 || c === 11 || c === 12;
}

function sameIds(a: number[], b: number[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}
