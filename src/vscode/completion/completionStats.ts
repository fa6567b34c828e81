/**
 * Local-only completion statistics, per model: suggestions shown, suggestions accepted, and how
 * many accepted characters are still there 30 s later — how the user sees whether tuning helped.
 * Kept in the workspace state (a Memento); never sent anywhere. No vscode import: the service
 * feeds it document changes and reads document text for it. The row type is the dashboard's
 * (webview/protocol.ts), which shows these counters.
 */
import type { ModelCompletionStats } from '../../../webview/protocol';

export type { ModelCompletionStats };

/** What the workspace state holds under STATS_KEY. */
type StoredStats = Record<string, ModelCompletionStats>;

export const STATS_KEY = 'localtune.completionStats';
export const SURVIVE_AFTER_MS = 30_000;

/** The subset of vscode.Memento used here. */
export interface StatsMemento {
  get<T>(key: string): T | undefined;
  update(key: string, value: unknown): Thenable<void>;
}

/** A change to a document: `removed` characters at `offset` replaced by `inserted` characters. */
export interface TextChange {
  offset: number;
  removed: number;
  inserted: number;
}

/** An accepted suggestion being watched: it occupies [start, end) of the document `uri`. */
interface Watched {
  model: string;
  uri: string;
  text: string;
  start: number;
  end: number;
}

/**
 * Where the range [start, end) is after `change`. Edits before it shift it, edits inside it grow
 * or shrink it; an edit that overlaps a boundary keeps the part of the range outside the edit
 * plus what the edit inserted.
 */
export function shiftRange(r: { start: number; end: number }, c: TextChange): { start: number; end: number } {
  const cEnd = c.offset + c.removed;
  const delta = c.inserted - c.removed;
  if (cEnd <= r.start) return { start: r.start + delta, end: r.end + delta };
  if (c.offset >= r.end) return r;
  const start = Math.min(r.start, c.offset);
  const end = Math.max(r.end, cEnd) + delta;
  return { start, end: Math.max(start, end) };
}

/** Longest common subsequence length: the inserted characters still present, in order. */
export function survivingChars(inserted: string, now: string): number {
  if (!inserted || !now) return 0;
  if (now.includes(inserted)) return inserted.length;
  // Bounded work: past a few thousand characters compare common prefix + suffix only.
  if (inserted.length * now.length > 4_000_000) {
    let p = 0;
    while (p < inserted.length && p < now.length && inserted[p] === now[p]) p++;
    let s = 0;
    while (
      s < inserted.length - p &&
      s < now.length - p &&
      inserted[inserted.length - 1 - s] === now[now.length - 1 - s]
    )
      s++;
    return p + s;
  }
  let prev = new Uint32Array(now.length + 1);
  let row = new Uint32Array(now.length + 1);
  for (let i = 1; i <= inserted.length; i++) {
    for (let j = 1; j <= now.length; j++)
      row[j] = inserted[i - 1] === now[j - 1] ? prev[j - 1] + 1 : Math.max(prev[j], row[j - 1]);
    [prev, row] = [row, prev];
  }
  return prev[now.length];
}

export class CompletionStats {
  private readonly watched = new Set<Watched>();
  private readonly listeners = new Set<() => void>();
  private readonly timers = new Set<ReturnType<typeof setTimeout>>();

  constructor(
    private readonly memento: StatsMemento,
    /** The text of [start, end) in the document `uri` now; undefined when it cannot be read. */
    private readonly readText: (uri: string, start: number, end: number) => Promise<string | undefined>,
    private readonly surviveAfterMs = SURVIVE_AFTER_MS,
  ) {}

  /** Every model's counters, most recently used first. */
  all(): ModelCompletionStats[] {
    return Object.values(this.stored()).sort((a, b) => b.lastUsed.localeCompare(a.lastUsed));
  }

  get(model: string): ModelCompletionStats | undefined {
    return this.stored()[model];
  }

  onDidChange(listener: () => void): { dispose(): void } {
    this.listeners.add(listener);
    return { dispose: () => this.listeners.delete(listener) };
  }

  /** A suggestion was shown (once per suggestion, however many keystrokes it lived through). */
  shown(model: string, label: string): Promise<void> {
    return this.change(model, label, (s) => s.shown++);
  }

  /** A suggestion was accepted; it now occupies [start, start + text.length) of `uri`. */
  async accepted(model: string, label: string, uri: string, start: number, text: string): Promise<void> {
    await this.change(model, label, (s) => {
      s.accepted++;
      s.acceptedChars += text.length;
    });
    const w: Watched = { model, uri, text, start, end: start + text.length };
    this.watched.add(w);
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      void this.checkSurvival(w);
    }, this.surviveAfterMs);
    this.timers.add(timer);
  }

  /** The document `uri` changed: keeps the watched ranges on the text they cover. */
  documentChanged(uri: string, changes: readonly TextChange[]): void {
    for (const w of this.watched) {
      if (w.uri !== uri) continue;
      // VS Code reports a change event's edits against the text before the event, last first.
      for (const c of [...changes].sort((a, b) => b.offset - a.offset)) Object.assign(w, shiftRange(w, c));
    }
  }

  /** Forgets the counters (all models, or one). */
  async reset(model?: string): Promise<void> {
    const next = model ? { ...this.stored() } : {};
    if (model) delete next[model];
    await this.memento.update(STATS_KEY, next);
    this.fire();
  }

  dispose(): void {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    this.watched.clear();
    this.listeners.clear();
  }

  private async checkSurvival(w: Watched): Promise<void> {
    this.watched.delete(w);
    const now = (await this.readText(w.uri, w.start, w.end).catch(() => undefined)) ?? '';
    const survived = survivingChars(w.text, now);
    await this.change(w.model, undefined, (s) => {
      s.checkedChars += w.text.length;
      s.survivedChars += survived;
    });
  }

  private stored(): StoredStats {
    return this.memento.get<StoredStats>(STATS_KEY) ?? {};
  }

  private async change(
    model: string,
    label: string | undefined,
    edit: (s: ModelCompletionStats) => void,
  ): Promise<void> {
    const all = { ...this.stored() };
    const s: ModelCompletionStats = {
      ...(all[model] ?? {
        model,
        label: label ?? model,
        shown: 0,
        accepted: 0,
        acceptedChars: 0,
        checkedChars: 0,
        survivedChars: 0,
        lastUsed: '',
      }),
    };
    if (label) s.label = label;
    edit(s);
    s.lastUsed = new Date().toISOString();
    all[model] = s;
    await this.memento.update(STATS_KEY, all);
    this.fire();
  }

  private fire(): void {
    for (const l of this.listeners) l();
  }
}
