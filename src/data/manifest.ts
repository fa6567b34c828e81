// manifest.json: what a dataset folder holds and how it was made. The trainer checks `tokenizer`
// against the model it trains, so a dataset built for another vocabulary is refused.
import type { DedupSummary } from './dedup';
import type { CsvColumns } from './formats/csv';
import type { SecretKind } from './scrub';
import type { SkipCounts, SkipReason } from './skips';
import type { SplitMethod } from './split';

export const MANIFEST_FILE = 'manifest.json';
export const MANIFEST_VERSION = 1;
export const DATASET_FILES = {
  trainIds: 'train.ids.u32',
  trainWeights: 'train.weights.u8',
  validationIds: 'validation.ids.u32',
  validationWeights: 'validation.weights.u8',
  scrubReport: 'scrub-report.json',
} as const;

/**
 * One piece of a split's packed stream: `ids` holds `tokens` Uint32 LE token ids, `weights` one
 * loss-weight byte per token. Files are named by a hash of their documents (`train-<16 hex>.ids.u32`),
 * so a rebuild writes only the pieces whose documents changed and keeps the others.
 */
export interface StreamSegment {
  ids: string;
  weights: string;
  tokens: number;
}

export interface SplitCounts {
  train: number;
  validation: number;
}

export interface DatasetManifest {
  format: 'localtune-dataset';
  version: typeof MANIFEST_VERSION;
  name: string;
  createdAt: string;
  sources: { path: string; kind: 'workspace' | 'text' | 'jsonl'; documents: number }[];
  filters: { include: string[]; exclude: string[]; maxFileBytes: number; maxLineChars: number };
  /** Files (or folders, counted once) and records left out, by reason. */
  skipped: SkipCounts;
  /** JSONL lines that could not be used (also counted in skipped['malformed-record']). */
  malformedRecords: number;
  documents: SplitCounts;
  /** Files (the split unit) on each side. */
  files: SplitCounts;
  /** Token counts, EOS separators included. */
  tokens: SplitCounts;
  /**
   * Where each split's stream lies: its segments, concatenated in this order. Absent in datasets
   * written before streams were segmented: those hold one file per stream (DATASET_FILES).
   */
  segments?: { train: StreamSegment[]; validation: StreamSegment[] };
  /** Tokens with loss weight 1. */
  lossTokens: SplitCounts;
  scrub: {
    findings: Partial<Record<SecretKind, number>>;
    filesWithFindings: number;
    allowed: number;
    report: string;
  };
  dedup: DedupSummary;
  split: { method: SplitMethod; valFraction: number };
  /** pieceChars: the longest piece rearranged whole (fim.ts); absent in datasets that rearranged whole documents. */
  fim: {
    rate: number;
    spmRate: number;
    style: 'starcoder' | 'qwen' | null;
    documents: number;
    pieceChars?: number;
  };
  seed: number;
  tokenizer: { modelPath: string; tokenizerSha256: string; vocabSize: number; eosId: number };
  /**
   * SHA-256 over the train then validation streams' hashes, each a SHA-256 over its documents'
   * hashes in stream order (a document's: SHA-256 of its Uint32 LE ids then its weight bytes), so an
   * incremental build need not read back the whole stream to hash it.
   */
  contentHash: string;
  /**
   * The held-out files: every document of these went to validation, none to train (the split's
   * unit is the file). The evaluation's completion benchmark masks spans in these only. Whole files
   * (code and text), not JSONL records; `path` is where the file was read. Absent in datasets built
   * before it was recorded: rebuild to evaluate completions.
   */
  heldOut?: {
    files: HeldOutFile[];
    /**
     * The held-out records (JSONL, ShareGPT and CSV rows: a conversation is one record, and the split
     * draws each record on its own, seeded by the dataset's seed and its file:line), in build order.
     * The chat evaluation answers these. Absent in datasets built before it was recorded.
     */
    records?: HeldOutRecord[];
  };
  /** The CSV/TSV columns chosen by name when the dataset was built (absent: the usual names). */
  csvColumns?: CsvColumns;
  /** Every file met by name (ListedFile). Absent in datasets built before it was recorded. */
  listing?: ListedFile[];
}

export interface HeldOutFile {
  /** The file id, as the split and the scrub report name it. */
  id: string;
  /** Absolute path of the source file. */
  path: string;
}

/** One held-out record: the file it is in and its line (a CSV row's first line). */
export interface HeldOutRecord {
  id: string;
  path: string;
  line: number;
}

/**
 * A file the build met, by name: kept (its tokens and side of the split) or left out (why, or
 * which kept file it duplicates). Folders skipped whole (vendored, excluded) are listed once.
 * Files left out by .gitignore, .localtuneignore or not matching the include patterns are only
 * counted (`skipped`): they are the user's own choice and may be thousands.
 */
export interface ListedFile {
  /** The file id, as the split and the scrub report name it. */
  id: string;
  /** Absolute path. */
  path: string;
  /** Index of its source in `sources`. */
  source: number;
  /** Size and mtime when read (absent for skipped folders): a changed workspace is found by these. */
  size?: number;
  mtimeMs?: number;
  folder?: boolean;
  skip?: SkipReason;
  /** The kept file whose exact (or near) copy this is; its own documents went nowhere. */
  duplicateOf?: string;
  tokens: number;
  documents: number;
  split?: 'train' | 'validation';
  /** Secrets replaced by placeholders in its text, by kind (findings marked false positives excluded). */
  findings?: Partial<Record<SecretKind, number>>;
}
