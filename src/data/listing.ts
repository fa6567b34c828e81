// The manifest's file listing (ListedFile): the build reports each file it meets here, once, and
// the Datasets view shows the result — so what the view lists is what the build did, by name.
import type { ListedFile } from './manifest';
import type { ScrubFinding } from './scrub';
import type { SkipReason } from './skips';

export class FileListing {
  private readonly files = new Map<string, ListedFile>();

  /** A file (or a folder skipped whole) the build met. */
  meet(id: string, path: string, source: number, stat?: { size: number; mtimeMs: number }): ListedFile {
    let f = this.files.get(id);
    if (!f) {
      f = { id, path, source, tokens: 0, documents: 0 };
      if (stat) {
        f.size = stat.size;
        f.mtimeMs = stat.mtimeMs;
      }
      this.files.set(id, f);
    }
    return f;
  }

  skip(id: string, path: string, source: number, reason: SkipReason, folder = false): void {
    const f = this.meet(id, path, source);
    f.skip = reason;
    if (folder) f.folder = true;
  }

  findings(id: string, findings: ScrubFinding[] | undefined): void {
    const f = this.files.get(id);
    if (!f) return;
    for (const x of findings ?? []) {
      if (x.allowed) continue;
      f.findings ??= {};
      f.findings[x.kind] = (f.findings[x.kind] ?? 0) + x.count;
    }
  }

  /** A document of `id` was dropped as a copy of `ofKey` (a split key: the file id, or `id:line` for a record). */
  duplicate(id: string, lineOfRecord: number | null, reason: SkipReason, ofKey: string): void {
    const f = this.files.get(id);
    // Records of a JSONL file are counted, not listed: the file itself is still used.
    if (!f || lineOfRecord !== null) return;
    f.skip = reason;
    f.duplicateOf = ofKey;
  }

  kept(id: string, tokens: number, split: 'train' | 'validation'): void {
    const f = this.files.get(id);
    if (!f) return;
    f.tokens += tokens;
    f.documents++;
    // A JSONL file's records may fall on both sides; it is listed on the side of its first.
    f.split ??= split;
  }

  list(): ListedFile[] {
    return [...this.files.values()].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  }
}
