// One source file -> its documents: a code or text file is one document, a JSONL file one per line.
// Secrets are scrubbed here, before anything downstream (dedup, FIM, the tokenizer) sees the text.
import { readFileSync } from 'node:fs';
import { UserError } from '../engine/errors';
import { decodeText, skipByContent } from './filters';
import type { ChatTemplate } from './formats/chat';
import { csvSamples, type CsvColumns } from './formats/csv';
import { parseRecord } from './formats/jsonl';
import { mapSegments, type Sample } from './formats/sample';
import { scrub, type ScrubAllow, type ScrubFinding } from './scrub';
import type { SkipReason } from './skips';

export type SourceKind = 'workspace' | 'text' | 'jsonl';

export interface SourceDoc {
  /** 1-based JSONL line, or null for a whole file. */
  line: number | null;
  sample: Sample;
  /** Whether FIM may rearrange it: code and text files, not records whose shape is given. */
  fimable: boolean;
}

export type FileResult =
  { skip: SkipReason } | { docs: SourceDoc[]; findings: ScrubFinding[]; malformed: number };

export interface ProcessOptions {
  chat: ChatTemplate | null;
  scrub: boolean;
  allow?: ScrubAllow[];
  onWarning?: (message: string) => void;
  /** CSV/TSV prompt and response columns (default: found by their usual names). */
  csvColumns?: CsvColumns;
}

/** 'jsonl': a file of records, one document each (JSONL, and CSV/TSV rows of prompt/response pairs). */
export function sourceKind(path: string): SourceKind {
  return /\.(jsonl|ndjson|csv|tsv)$/i.test(path) ? 'jsonl' : 'text';
}

/** The documents of one file whose bytes are `bytes`; `where` names it in warnings. */
export function processFile(
  where: string,
  kind: SourceKind,
  bytes: Uint8Array,
  opts: ProcessOptions,
): FileResult {
  if (kind === 'jsonl' && /\.(csv|tsv)$/i.test(where)) return processCsv(where, bytes, opts);
  if (kind === 'jsonl') return processJsonl(where, bytes, opts);
  const decoded = decodeText(bytes);
  if ('skip' in decoded) return decoded;
  const skip = skipByContent(decoded.text);
  if (skip) return { skip };
  const { text, findings } = opts.scrub
    ? scrub(decoded.text, opts.allow, { path: where })
    : { text: decoded.text, findings: [] };
  return { docs: [{ line: null, sample: [{ text, loss: true }], fimable: true }], findings, malformed: 0 };
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

function processJsonl(where: string, bytes: Uint8Array, opts: ProcessOptions): FileResult {
  const docs: SourceDoc[] = [];
  const findings: ScrubFinding[] = [];
  let malformed = 0;
  let start = 0;
  for (let lineNo = 1; start < bytes.length; lineNo++) {
    let end = bytes.indexOf(0x0a, start);
    if (end === -1) end = bytes.length;
    const raw = bytes.subarray(start, end);
    start = end + 1;
    const bad = (reason: string) => {
      malformed++;
      opts.onWarning?.(`${where}:${lineNo}: ${reason}`);
    };
    let line: string;
    try {
      line = utf8.decode(raw);
    } catch {
      bad('invalid UTF-8');
      continue;
    }
    if (line.trim() === '') continue;
    const r = parseRecord(line, opts.chat);
    if ('error' in r) {
      bad(r.error);
      continue;
    }
    const sample = opts.scrub
      ? mapSegments(r.sample, (seg) => scrubSegment(seg, lineNo, findings))
      : r.sample;
    docs.push({ line: lineNo, sample, fimable: false });
  }
  return { docs, findings, malformed };
}

function processCsv(where: string, bytes: Uint8Array, opts: ProcessOptions): FileResult {
  const docs: SourceDoc[] = [];
  const findings: ScrubFinding[] = [];
  let malformed = 0;
  let text: string;
  try {
    text = utf8.decode(bytes);
  } catch {
    opts.onWarning?.(`${where}:1: invalid UTF-8; save the file as UTF-8`);
    return { docs, findings, malformed: 1 };
  }
  for (const { line, result } of csvSamples(text, where, opts.chat, opts.csvColumns)) {
    if ('error' in result) {
      malformed++;
      opts.onWarning?.(`${where}:${line}: ${result.error}`);
      continue;
    }
    const sample = opts.scrub
      ? mapSegments(result.sample, (seg) => scrubSegment(seg, line, findings))
      : result.sample;
    docs.push({ line, sample, fimable: false });
  }
  return { docs, findings, malformed };
}

/** Scrubs a segment's text; findings are reported on the record's line of the JSONL file. */
function scrubSegment(seg: Sample[number], lineNo: number, findings: ScrubFinding[]): Sample[number] {
  if (!('text' in seg)) return seg;
  const r = scrub(seg.text);
  for (const f of r.findings) {
    const same = findings.find((g) => g.kind === f.kind && g.line === lineNo);
    if (same) same.count += f.count;
    else findings.push({ kind: f.kind, line: lineNo, count: f.count });
  }
  return { text: r.text, loss: seg.loss };
}

/** Reads a file the user named; a missing or unreadable one is a user error naming it. */
export function readSourceFile(path: string): Buffer {
  try {
    return readFileSync(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : code;
    throw new UserError(`${path}: cannot read (${why}); check the path and its permissions`);
  }
}

/** Documents of a loose file (text or JSONL), for token streams made without a dataset folder. */
export function* fileSamples(path: string, opts: ProcessOptions): Generator<SourceDoc> {
  const result = processFile(path, sourceKind(path), readSourceFile(path), opts);
  if ('skip' in result) {
    opts.onWarning?.(`${path}: skipped (${result.skip})`);
    return;
  }
  yield* result.docs;
}
