/**
 * Masked spans for the completion benchmark: places in held-out files where a developer would ask
 * for a completion, and the text they then wrote. Three kinds:
 * - `line-rest`: the cursor inside a line (after a word boundary); the rest of the line is masked.
 * - `line`: the cursor at the start of a line, after its indentation; the whole line is masked.
 * - `block`: the cursor on the first line of a block after its opener (as the completion engine's
 *   stop rules see one), after the indentation; the block's body (a few lines, up to the dedent
 *   back to the opener's level) is masked.
 * The choice is seeded: the same files and seed give the same spans on every machine.
 */
import { dirname } from 'node:path';
import type { CompletionRequest } from '../engine/complete/completer';
import type { ContextFile } from '../engine/complete/context';
import { relativeImports } from '../engine/complete/imports';
import { endsWithBlockOpener, indentWidth } from '../engine/complete/stops';
import { Rng } from '../engine/rng';

export type SpanKind = 'line-rest' | 'line' | 'block';
export const SPAN_KINDS: readonly SpanKind[] = ['line-rest', 'line', 'block'];

export interface MaskedSpan {
  /** The held-out file's id (as the dataset manifest names it). */
  file: string;
  /** 1-based line of the cursor. */
  line: number;
  kind: SpanKind;
  /** The document's text before the cursor. */
  prefix: string;
  /** The masked text: what the developer wrote. */
  expected: string;
  /** The text after the masked span. */
  suffix: string;
  languageId: string;
  /** Other files the editor would offer as context (withWorkspaceContext); none: the file alone. */
  context?: ContextFile[];
}

export interface SpanOptions {
  /** Spans in all, split evenly over the kinds (default 30). */
  count?: number;
  seed?: number;
  /** A masked span is at most this many characters (default 200). */
  maxChars?: number;
  /** A block is at most this many lines (default 6). */
  maxBlockLines?: number;
}

/** Masked texts shorter than this are too easy to say anything (a lone `}`). */
const MIN_CHARS = 4;

interface Candidate {
  file: number;
  line: number;
  /** Offsets in the file's text: the cursor and the end of the masked span. */
  start: number;
  end: number;
  kind: SpanKind;
}

/**
 * Spans from `files` (id and text, e.g. the held-out files after scrubbing): `count` spread evenly
 * over the kinds as far as each kind has candidates; fewer when the files offer fewer.
 */
export function maskSpans(files: readonly { id: string; text: string }[], o: SpanOptions = {}): MaskedSpan[] {
  const count = o.count ?? 30;
  const seed = o.seed ?? 0;
  const maxChars = o.maxChars ?? 200;
  const maxBlockLines = o.maxBlockLines ?? 6;
  const sorted = [...files].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  const byKind = new Map<SpanKind, Candidate[]>(SPAN_KINDS.map((k) => [k, []]));
  const rng = new Rng(seed).fork('spans');
  sorted.forEach((f, fileIndex) => {
    for (const c of candidates(f.text, fileIndex, maxChars, maxBlockLines, rng.fork(f.id)))
      byKind.get(c.kind)!.push(c);
  });
  // Even shares per kind; what a kind lacks goes to the others.
  const picked: Candidate[] = [];
  const pools = SPAN_KINDS.map((k) => shuffle(byKind.get(k)!, rng.fork(`pick-${k}`)));
  let left = count;
  for (let round = 0; left > 0 && pools.some((p) => p.length > 0); round++) {
    const open = pools.filter((p) => p.length > 0);
    const share = Math.max(1, Math.floor(left / open.length));
    for (const p of open) {
      const take = p.splice(0, Math.min(share, left));
      picked.push(...take);
      left -= take.length;
      if (left === 0) break;
    }
  }
  picked.sort(
    (a, b) => a.file - b.file || a.start - b.start || SPAN_KINDS.indexOf(a.kind) - SPAN_KINDS.indexOf(b.kind),
  );
  return picked.map((c) => {
    const { id, text } = sorted[c.file];
    return {
      file: id,
      line: c.line,
      kind: c.kind,
      prefix: text.slice(0, c.start),
      expected: text.slice(c.start, c.end),
      suffix: text.slice(c.end),
      languageId: languageIdOf(id),
    };
  });
}

function candidates(
  text: string,
  file: number,
  maxChars: number,
  maxBlockLines: number,
  rng: Rng,
): Candidate[] {
  const out: Candidate[] = [];
  const lines = text.split('\n');
  const starts: number[] = [];
  let offset = 0;
  for (const l of lines) {
    starts.push(offset);
    offset += l.length + 1;
  }
  const indentOf = (l: string) => l.length - l.trimStart().length;
  const width = (l: string) => indentWidth(l.replace(/\r$/, ''));
  const blank = (l: string) => l.trim() === '';
  lines.forEach((raw, i) => {
    const l = raw.replace(/\r$/, '');
    if (blank(l)) return;
    const indent = indentOf(l);
    const body = l.length - indent;
    const lineEnd = starts[i] + l.length;
    // A whole line, after its indentation.
    if (body >= MIN_CHARS && body <= maxChars)
      out.push({ file, line: i + 1, start: starts[i] + indent, end: lineEnd, kind: 'line' });
    // The rest of a line, from a word boundary at least two characters in and MIN_CHARS before its end.
    const cuts: number[] = [];
    for (let p = indent + 2; p <= l.length - MIN_CHARS; p++)
      if (/\W/.test(l[p - 1]) !== /\W/.test(l[p]) || /\s/.test(l[p - 1])) cuts.push(p);
    if (cuts.length > 0) {
      const p = cuts[rng.nextInt(cuts.length)];
      if (l.length - p <= maxChars)
        out.push({ file, line: i + 1, start: starts[i] + p, end: lineEnd, kind: 'line-rest' });
    }
    // A block body after an opener line: the more-indented lines that follow, up to the dedent.
    if (endsWithBlockOpener(l) && i + 1 < lines.length) {
      const first = lines[i + 1].replace(/\r$/, '');
      const openerWidth = width(l);
      if (blank(first) || width(first) <= openerWidth) return;
      let last = i + 1;
      while (
        last + 1 < lines.length &&
        last + 1 - i <= maxBlockLines &&
        !blank(lines[last + 1]) &&
        width(lines[last + 1]) > openerWidth
      )
        last++;
      const ended =
        last + 1 < lines.length && !blank(lines[last + 1]) && width(lines[last + 1]) <= openerWidth;
      const start = starts[i + 1] + indentOf(first);
      const end = starts[last] + lines[last].replace(/\r$/, '').length;
      if (ended && end - start >= MIN_CHARS && end - start <= maxChars)
        out.push({ file, line: i + 2, start, end, kind: 'block' });
    }
  });
  return out;
}

function shuffle<T>(items: T[], rng: Rng): T[] {
  const a = items.slice();
  for (let i = a.length - 1; i > 0; i--) {
    const j = rng.nextInt(i + 1);
    [a[i], a[j]] = [a[j], a[i]];
  }
  return a;
}

const LANGUAGES: Record<string, string> = {
  ts: 'typescript',
  tsx: 'typescriptreact',
  mts: 'typescript',
  cts: 'typescript',
  js: 'javascript',
  jsx: 'javascriptreact',
  mjs: 'javascript',
  cjs: 'javascript',
  py: 'python',
  rs: 'rust',
  go: 'go',
  java: 'java',
  kt: 'kotlin',
  c: 'c',
  h: 'c',
  cc: 'cpp',
  cpp: 'cpp',
  hpp: 'cpp',
  cs: 'csharp',
  rb: 'ruby',
  php: 'php',
  swift: 'swift',
  sh: 'shellscript',
  md: 'markdown',
  json: 'json',
  yaml: 'yaml',
  yml: 'yaml',
  html: 'html',
  css: 'css',
  sql: 'sql',
  txt: 'plaintext',
};

/** VS Code's language id for a file name, by extension ('plaintext' when unknown). */
export function languageIdOf(path: string): string {
  const ext = /\.([^./\\]+)$/.exec(path)?.[1]?.toLowerCase();
  return (ext && LANGUAGES[ext]) || 'plaintext';
}

/** Other held-out files of a span's folder stand in for its open editors, at most this many. */
const NEIGHBOURS = 4;

/**
 * The spans with the workspace context the editor would send (the "with context" variant of the
 * benchmark): the files each span's file imports by relative path (read from disk, training files
 * included), then the other held-out files in its folder, as open editors would be. `files` are
 * the held-out files with their paths; `read` gives a file's text (undefined when unreadable).
 */
export function withWorkspaceContext(
  spans: readonly MaskedSpan[],
  files: readonly { id: string; path: string }[],
  read: (path: string) => string | undefined,
): MaskedSpan[] {
  const pathOf = new Map(files.map((f) => [f.id, f.path]));
  const texts = new Map<string, string | undefined>();
  const text = (path: string) => {
    if (!texts.has(path)) texts.set(path, read(path));
    return texts.get(path);
  };
  return spans.map((span) => {
    const path = pathOf.get(span.file);
    if (!path) return span;
    const own = text(path) ?? span.prefix + span.expected + span.suffix;
    const paths = [
      ...relativeImports(path, own, span.languageId),
      ...files
        .filter((f) => f.path !== path && dirname(f.path) === dirname(path))
        .slice(0, NEIGHBOURS)
        .map((f) => f.path),
    ];
    const context: ContextFile[] = [];
    for (const p of new Set(paths)) {
      const t = p === path ? undefined : text(p);
      // Named as the editor would: by the path in the workspace (the span's id is one).
      const root = path.endsWith(span.file) ? path.slice(0, path.length - span.file.length) : '';
      const name =
        files.find((f) => f.path === p)?.id ?? (root && p.startsWith(root) ? p.slice(root.length) : p);
      if (t) context.push({ path: name, text: t });
    }
    return { ...span, context };
  });
}

/** What the editor asks at a span: the text around its cursor, one line or a block, and its context. */
export function spanRequest(span: MaskedSpan): CompletionRequest {
  return {
    prefix: span.prefix,
    suffix: span.suffix,
    languageId: span.languageId,
    multiline: span.kind === 'block' ? 'multi' : 'single',
    context: span.context,
  };
}
