/**
 * The editor side's memory of recent completions (no vscode import): an LRU cache keyed by the
 * text around the cursor that also serves typed-ahead matches — when the user types the first
 * characters of a suggestion, the rest is served at once, without asking the worker — and the
 * debounce that lets a burst of keystrokes end before a request goes out.
 */

/** One completion as the worker gave it for a cursor context. */
export interface CachedCompletion {
  /** Stable per suggestion: a typed-ahead continuation keeps it (counted once as shown). */
  id: number;
  /** The tail of the text before the cursor when it was asked for (`PREFIX_KEY_CHARS` at most). */
  prefixTail: string;
  /** The head of the text after the cursor (`SUFFIX_KEY_CHARS` at most). */
  suffixHead: string;
  /** What the model proposed to insert at that cursor. */
  text: string;
  model: string;
  languageId: string;
}

/** A cache hit: the part of a suggestion still to insert (typed-ahead hits: the untyped rest). */
export interface CacheHit {
  entry: CachedCompletion;
  /** Characters of `entry.text` the user has already typed (0 for an exact hit). */
  typed: number;
  /** `entry.text.slice(typed)`: never empty. */
  rest: string;
}

/** How much of the text before / after the cursor keys an entry. */
export const PREFIX_KEY_CHARS = 512;
export const SUFFIX_KEY_CHARS = 256;

export class CompletionCache {
  /** Most recently used last (a Map keeps insertion order). */
  private readonly entries = new Map<string, CachedCompletion>();
  private nextId = 1;

  constructor(private readonly capacity = 64) {}

  get size(): number {
    return this.entries.size;
  }

  /** Stores what the model proposed for this context; returns the entry (with its new id). */
  put(c: {
    prefix: string;
    suffix: string;
    text: string;
    model: string;
    languageId: string;
  }): CachedCompletion {
    const entry: CachedCompletion = {
      id: this.nextId++,
      prefixTail: c.prefix.slice(-PREFIX_KEY_CHARS),
      suffixHead: c.suffix.slice(0, SUFFIX_KEY_CHARS),
      text: c.text,
      model: c.model,
      languageId: c.languageId,
    };
    const key = keyOf(entry.model, entry.languageId, entry.prefixTail, entry.suffixHead);
    this.entries.delete(key);
    this.entries.set(key, entry);
    while (this.entries.size > this.capacity) this.entries.delete(this.entries.keys().next().value!);
    return entry;
  }

  /**
   * The suggestion for the cursor between `prefix` and `suffix`: an exact hit, or the newest entry
   * whose context plus its first characters is what the document now holds before the cursor
   * (typed ahead), with the same text after the cursor. Undefined when the user typed something
   * else, or the whole suggestion already.
   */
  get(prefix: string, suffix: string, model: string, languageId: string): CacheHit | undefined {
    const suffixHead = suffix.slice(0, SUFFIX_KEY_CHARS);
    const exact = keyOf(model, languageId, prefix.slice(-PREFIX_KEY_CHARS), suffixHead);
    const hit = this.entries.get(exact);
    if (hit) return this.touch(exact, hit, 0);
    const entries = [...this.entries].reverse();
    for (const [key, e] of entries) {
      if (e.model !== model || e.languageId !== languageId || e.suffixHead !== suffixHead) continue;
      const typed = typedAhead(prefix, e.prefixTail, e.text);
      if (typed > 0) return this.touch(key, e, typed);
    }
    return undefined;
  }

  clear(): void {
    this.entries.clear();
  }

  private touch(key: string, entry: CachedCompletion, typed: number): CacheHit | undefined {
    if (typed >= entry.text.length) return undefined;
    this.entries.delete(key);
    this.entries.set(key, entry);
    return { entry, typed, rest: entry.text.slice(typed) };
  }
}

function keyOf(model: string, languageId: string, prefixTail: string, suffixHead: string): string {
  return `${model}\u0000${languageId}\u0000${prefixTail}\u0000${suffixHead}`;
}

/**
 * How many characters of `text` the user typed after the context `prefixTail`, judging by what now
 * sits before the cursor (`prefix`): the k ≥ 1 for which `prefix` ends with `prefixTail + text[0..k)`;
 * 0 when there is none. Compares the last `PREFIX_KEY_CHARS` characters only, as the key does.
 */
export function typedAhead(prefix: string, prefixTail: string, text: string): number {
  for (let k = Math.min(text.length, prefix.length); k >= 1; k--) {
    if (!prefix.endsWith(text.slice(0, k))) continue;
    const before = prefix.slice(0, prefix.length - k);
    const tail = before.slice(-PREFIX_KEY_CHARS);
    if (tail === prefixTail) return k;
  }
  return 0;
}

/**
 * Debounce for a provider called once per keystroke: `wait(ms)` resolves true only if no newer
 * call came in meanwhile and `isCancelled()` is still false; only the last call of a burst goes on.
 */
export class Debouncer {
  private generation = 0;

  constructor(
    private readonly sleep: (ms: number) => Promise<void> = (ms) =>
      new Promise((resolve) => setTimeout(resolve, ms)),
  ) {}

  async wait(ms: number, isCancelled: () => boolean = () => false): Promise<boolean> {
    const mine = ++this.generation;
    if (ms > 0) await this.sleep(ms);
    return mine === this.generation && !isCancelled();
  }
}
