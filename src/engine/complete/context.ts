/**
 * Context from other files of the workspace, the way neighbouring-tabs context works in editors'
 * completion engines: from each other file (open editors, the files the current one imports) the
 * window of lines most like the code just before the cursor (Jaccard similarity of their word
 * sets), written as comments that name the file, before the prefix. The prompt builder gives the
 * snippets at most a share of its token budget; the most similar ones sit nearest the code.
 */

/** Another file the editor knows of, with its text. */
export interface ContextFile {
  /** Its path as the user reads it (relative to the workspace). */
  path: string;
  text: string;
}

export interface ContextSnippet {
  path: string;
  /** The chosen lines. */
  text: string;
  /** Jaccard similarity with the lines before the cursor (0–1). */
  score: number;
}

/** Lines in a snippet window, and lines before the cursor it is compared with. */
const WINDOW_LINES = 30;
const QUERY_LINES = 20;
/** Snippets at most, and the least similarity worth a snippet. */
const MAX_SNIPPETS = 4;
const MIN_SCORE = 0.05;

function words(text: string): Set<string> {
  return new Set(text.match(/[A-Za-z_$][\w$]*/g) ?? []);
}

function jaccard(a: Set<string>, b: Set<string>): number {
  if (a.size === 0 || b.size === 0) return 0;
  let both = 0;
  for (const w of a) if (b.has(w)) both++;
  return both / (a.size + b.size - both);
}

/** The best window of each file, most similar last (nearest the cursor in the prompt), at most MAX_SNIPPETS. */
export function pickSnippets(files: readonly ContextFile[], prefix: string): ContextSnippet[] {
  const query = words(prefix.split('\n').slice(-QUERY_LINES).join('\n'));
  const best: ContextSnippet[] = [];
  for (const f of files) {
    const lines = f.text.split('\n');
    let top: ContextSnippet | null = null;
    // Windows overlap by half: a function split by one boundary is whole in the next window.
    for (let start = 0; start < Math.max(1, lines.length); start += WINDOW_LINES / 2) {
      const text = lines.slice(start, start + WINDOW_LINES).join('\n');
      const score = jaccard(query, words(text));
      if (!top || score > top.score) top = { path: f.path, text, score };
      if (start + WINDOW_LINES >= lines.length) break;
    }
    if (top && top.score >= MIN_SCORE && top.text.trim() !== '') best.push(top);
  }
  return best
    .sort((a, b) => b.score - a.score)
    .slice(0, MAX_SNIPPETS)
    .reverse();
}

const HASH_COMMENT = new Set([
  'python',
  'shellscript',
  'ruby',
  'perl',
  'r',
  'yaml',
  'toml',
  'dockerfile',
  'makefile',
  'powershell',
  'elixir',
  'julia',
  'coffeescript',
]);
const DASH_COMMENT = new Set(['sql', 'lua', 'haskell']);

/** The line-comment marker of a language (`//` when unknown). */
export function lineComment(languageId: string): string {
  if (HASH_COMMENT.has(languageId)) return '#';
  if (DASH_COMMENT.has(languageId)) return '--';
  return '//';
}

/** The snippets as comment lines before the code: `// Path: a.ts` then the lines, commented. */
export function renderSnippets(snippets: readonly ContextSnippet[], languageId: string): string {
  const c = lineComment(languageId);
  return snippets
    .map(
      (s) =>
        `${c} Path: ${s.path}\n${s.text
          .split('\n')
          .map((l) => (l ? `${c} ${l}` : c))
          .join('\n')}\n`,
    )
    .join('');
}
