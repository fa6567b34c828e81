/**
 * Text rules of the provider (no vscode import): the bounded window of context sent to the worker
 * (its prompt builder applies the token budget), when not to ask at all, and how a suggestion
 * becomes an edit that Tab accepts without duplicating what already follows the cursor.
 */

/** Characters before / after the cursor sent with a request: more than any token budget uses. */
export const PREFIX_WINDOW_CHARS = 8000;
export const SUFFIX_WINDOW_CHARS = 2000;

/**
 * Why not to ask for a completion at this cursor, or undefined to ask. `lineSuffix` is the text
 * right of the cursor on its line: only closing brackets, quotes, punctuation and spaces may sit
 * there (a cursor in the middle of code is not a place for ghost text).
 */
export function skipReason(lineSuffix: string): string | undefined {
  return /^[\s)\]}>"'`;:,.]*$/.test(lineSuffix) ? undefined : 'text right of the cursor';
}

/**
 * The edit for `text` proposed at the cursor, with `lineSuffix` right of it on the line. A
 * single-line suggestion that contains what follows the cursor in order (`a, b): x` before `)`)
 * replaces it, so the editor shows the missing parts as ghost text and Tab leaves one `)`, not
 * two; one that only repeats the text after the cursor is dropped (undefined), as is whitespace.
 */
export function fitSuggestion(
  text: string,
  lineSuffix: string,
): { insertText: string; replaceChars: number } | undefined {
  if (!/\S/.test(text)) return undefined;
  const rest = lineSuffix.replace(/\s+$/, '');
  if (!rest) return { insertText: text, replaceChars: 0 };
  if (rest.startsWith(text.replace(/\s+$/, ''))) return undefined; // only repeats what follows
  const line = text.replace(/\s+$/, '');
  if (!line.includes('\n') && isSubsequence(rest, line))
    return { insertText: line, replaceChars: rest.length };
  return { insertText: text, replaceChars: 0 };
}

/** Whether every character of `a` occurs in `b`, in order. */
export function isSubsequence(a: string, b: string): boolean {
  let i = 0;
  for (let j = 0; j < b.length && i < a.length; j++) if (a[i] === b[j]) i++;
  return i === a.length;
}

/** Per-language enablement (`localtune.completions.languages`): the language's entry, else `*`, else on. */
export function languageEnabled(languages: Record<string, boolean>, languageId: string): boolean {
  return languages[languageId] ?? languages['*'] ?? true;
}
