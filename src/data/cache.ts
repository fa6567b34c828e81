// The incremental-build cache, in <out>/cache/: per source file (keyed by its id, checked by size +
// mtime, then by a hash of its bytes) the filter verdict, scrub findings, fingerprints and token
// ids. Token ids live in two append-only blobs. The index is index.json plus a journal
// (index.journal: one JSON line per build, the entries it changed or removed, tagged with the
// index's generation so a journal never applies to an index written after it); a build that
// changed little appends a line, and the index is rewritten atomically (the journal then starts
// over) when the journal grows large or the blobs are compacted, which happens when most of them
// is dead. A cache made with other settings
// (tokenizer, seed, FIM rates, scrub marks) is discarded as a whole.
import {
  appendFileSync,
  existsSync,
  mkdirSync,
  openSync,
  closeSync,
  ftruncateSync,
  readFileSync,
  readdirSync,
  readSync,
  renameSync,
  rmSync,
  statSync,
  unlink,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { NUM_HASHES } from './dedup';
import type { ScrubFinding } from './scrub';
import type { SkipReason } from './skips';

// 2: the exact hash is taken over tokens (fingerprints of version 1 do not compare).
// 3: token refs carry their documents' hash and loss-token count; MinHash signatures live in a blob.
// 4: the index has a generation, and a journal beside it.
// 5: text and FIM documents start with the tokenizer's prefix ids (BOS where its config adds one).
// 6: FIM rearranges pieces of a long document (fim.ts FIM_PIECE_CHARS), not the whole document.
const CACHE_VERSION = 6;

export interface TokenRef {
  offset: number;
  length: number;
  /** SHA-256 (base64) of the document's id bytes then weight bytes: the manifest's content hash is made of these. */
  hash: string;
  /** Tokens with loss weight 1. */
  loss: number;
}

export interface CachedDoc {
  line: number | null;
  exact: string;
  /** Where its MinHash signature lies in the signature blob (in signatures). */
  sig: number;
  tokens?: TokenRef;
  /** Whether FIM rearranged it (known once tokenized). */
  fim?: boolean;
}

export interface CachedFile {
  size: number;
  mtimeMs: number;
  contentHash: string;
  skip?: SkipReason;
  docs?: CachedDoc[];
  findings?: ScrubFinding[];
  malformed?: number;
}

interface Index {
  version: number;
  configKey: string;
  /** Changes on every full write: journal lines name the generation they extend. */
  generation: string;
  /** Signatures in the signature blob when the index was written. */
  sigs: number;
  files: Record<string, CachedFile>;
}

interface JournalLine {
  generation: string;
  sigs: number;
  set: Record<string, CachedFile>;
  del: string[];
}

const SIG_BYTES = NUM_HASHES * 4;
// The index is written whole when the journal reaches this fraction of its size.
const JOURNAL_FRACTION = 0.25;

export class BuildCache {
  private readonly files: Record<string, CachedFile>;
  private readonly idsFd: number;
  private readonly weightsFd: number;
  private readonly sigsFd: number;
  private blobTokens: number;
  private blobSigs: number;
  private closed = false;
  /** Entries set since the index was loaded (journaled on save). */
  private readonly dirty = new Set<string>();
  private generation = '';
  private indexBytes = 0;
  private journalBytes = 0;
  private loadedSigs = -1;

  constructor(
    private readonly dir: string,
    private readonly configKey: string,
  ) {
    mkdirSync(dir, { recursive: true });
    // Old indexes a crashed build moved aside and meant to unlink.
    for (const name of readdirSync(dir))
      if (name.startsWith('index.json.old-')) unlink(join(dir, name), () => {});
    const index = this.load();
    if (!index) {
      rmSync(this.idsPath, { force: true });
      rmSync(this.weightsPath, { force: true });
      rmSync(this.sigsPath, { force: true });
      rmSync(this.journalPath, { force: true });
    }
    this.files = index?.files ?? {};
    if (index) {
      this.generation = index.generation;
      this.loadedSigs = index.sigs;
    }
    this.idsFd = openSync(this.idsPath, 'a+');
    this.weightsFd = openSync(this.weightsPath, 'a+');
    this.sigsFd = openSync(this.sigsPath, 'a+');
    this.blobTokens = statSync(this.weightsPath).size;
    this.blobSigs = statSync(this.sigsPath).size / SIG_BYTES;
  }

  private get idsPath(): string {
    return join(this.dir, 'tokens.u32');
  }
  private get weightsPath(): string {
    return join(this.dir, 'weights.u8');
  }
  private get sigsPath(): string {
    return join(this.dir, 'minhash.u32');
  }
  private get indexPath(): string {
    return join(this.dir, 'index.json');
  }
  private get journalPath(): string {
    return join(this.dir, 'index.journal');
  }

  private load(): Index | null {
    if (!existsSync(this.indexPath)) return null;
    try {
      const text = readFileSync(this.indexPath, 'utf8');
      this.indexBytes = text.length;
      const index = JSON.parse(text) as Index;
      if (index.version !== CACHE_VERSION || index.configKey !== this.configKey) return null;
      this.applyJournal(index);
      // Blobs cut short by a crash after the index was written cannot be trusted.
      if (statSync(this.idsPath).size !== statSync(this.weightsPath).size * 4) return null;
      if (statSync(this.sigsPath).size !== index.sigs * SIG_BYTES) return null;
      return index;
    } catch {
      return null;
    }
  }

  /** Applies the journal's complete lines that extend this index (a line cut short by a crash is not). */
  private applyJournal(index: Index): void {
    let text: string;
    try {
      text = readFileSync(this.journalPath, 'utf8');
    } catch {
      return;
    }
    this.journalBytes = text.length;
    const end = text.lastIndexOf('\n');
    if (end < 0) return;
    for (const line of text.slice(0, end).split('\n')) {
      const j = JSON.parse(line) as JournalLine;
      if (j.generation !== index.generation) continue;
      Object.assign(index.files, j.set);
      for (const key of j.del) delete index.files[key];
      index.sigs = j.sigs;
    }
  }

  get(key: string): CachedFile | undefined {
    return this.files[key];
  }

  /** Stores a file's entry (also after changing one `get` returned: the index saves it again). */
  set(key: string, entry: CachedFile): void {
    this.files[key] = entry;
    this.dirty.add(key);
  }

  appendTokens(ids: number[], weights: number[]): TokenRef {
    const idBytes = new Uint8Array(Uint32Array.from(ids).buffer);
    const weightBytes = Uint8Array.from(weights);
    let loss = 0;
    for (let i = 0; i < weightBytes.length; i++) loss += weightBytes[i];
    const hash = createHash('sha256').update(idBytes).update(weightBytes).digest('base64');
    const ref = { offset: this.blobTokens, length: ids.length, hash, loss };
    writeSync(this.idsFd, idBytes);
    writeSync(this.weightsFd, weightBytes);
    this.blobTokens += ids.length;
    return ref;
  }

  /** Stores a MinHash signature; the number is its place in the blob. */
  appendSig(sig: Uint32Array): number {
    writeSync(this.sigsFd, new Uint8Array(sig.buffer, sig.byteOffset, SIG_BYTES));
    return this.blobSigs++;
  }

  /** Every stored signature, read at once: `signatures(all, doc.sig)` is a document's. */
  readSigs(): Uint32Array {
    const bytes = new Uint8Array(this.blobSigs * SIG_BYTES);
    readFully(this.sigsFd, bytes, bytes.length, 0);
    return new Uint32Array(bytes.buffer);
  }

  /**
   * The token blobs' descriptors (ids, weights), for reading token refs; they stay valid until
   * `close`, a compaction in `save` notwithstanding (it writes new files and renames them).
   */
  blobFds(): [number, number] {
    return [this.idsFd, this.weightsFd];
  }

  readTokens(ref: { offset: number; length: number }): { ids: Uint32Array; weights: Uint8Array } {
    const ids = new Uint32Array(ref.length);
    const weights = new Uint8Array(ref.length);
    readFully(this.idsFd, new Uint8Array(ids.buffer), ref.length * 4, ref.offset * 4);
    readFully(this.weightsFd, weights, ref.length, ref.offset);
    return { ids, weights };
  }

  /**
   * Keeps only the files in `live`, compacts the blobs when over half is dead, and saves the index:
   * nothing when nothing changed, a journal line when little did, else the whole index.
   */
  save(live: Set<string>): void {
    const del: string[] = [];
    for (const key of Object.keys(this.files))
      if (!live.has(key)) {
        delete this.files[key];
        this.dirty.delete(key);
        del.push(key);
      }
    const refs = Object.values(this.files).flatMap((f) =>
      (f.docs ?? []).flatMap((d) => (d.tokens ? [d.tokens] : [])),
    );
    const liveTokens = refs.reduce((n, r) => n + r.length, 0);
    let whole = this.generation === '';
    if (liveTokens * 2 < this.blobTokens) {
      this.compact(refs);
      whole = true;
    }
    const docs = Object.values(this.files).flatMap((f) => f.docs ?? []);
    if (docs.length * 2 <= this.blobSigs && this.blobSigs > docs.length) {
      this.compactSigs(docs);
      whole = true;
    }
    if (!whole) {
      if (this.dirty.size === 0 && del.length === 0 && this.blobSigs === this.loadedSigs) return;
      const set: Record<string, CachedFile> = {};
      for (const key of this.dirty) set[key] = this.files[key];
      const line: JournalLine = { generation: this.generation, sigs: this.blobSigs, set, del };
      const text = JSON.stringify(line) + '\n';
      if (this.journalBytes + text.length <= this.indexBytes * JOURNAL_FRACTION) {
        appendFileSync(this.journalPath, text);
        this.journalBytes += text.length;
        this.dirty.clear();
        this.loadedSigs = this.blobSigs;
        return;
      }
    }
    this.generation = createHash('sha256')
      .update(`${Date.now()}:${Math.random()}`)
      .digest('hex')
      .slice(0, 16);
    const tmp = `${this.indexPath}.tmp`;
    const index: Index = {
      version: CACHE_VERSION,
      configKey: this.configKey,
      generation: this.generation,
      sigs: this.blobSigs,
      files: this.files,
    };
    const text = JSON.stringify(index);
    writeFileSync(tmp, text);
    replaceInBackground(tmp, this.indexPath);
    // The journal names the old generation: it no longer applies; start it over.
    rmSync(this.journalPath, { force: true });
    this.indexBytes = text.length;
    this.journalBytes = 0;
    this.dirty.clear();
    this.loadedSigs = this.blobSigs;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    closeSync(this.idsFd);
    closeSync(this.weightsFd);
    closeSync(this.sigsFd);
  }

  private compactSigs(docs: CachedDoc[]): void {
    const all = this.readSigs();
    const live = new Uint32Array(docs.length * NUM_HASHES);
    docs.forEach((d, i) => {
      live.set(signature(all, d.sig), i * NUM_HASHES);
      d.sig = i;
    });
    // The blob is open for appending: it is rewritten in place (an index naming the old places
    // stays until the new one replaces it, and a size that disagrees discards the cache).
    ftruncateSync(this.sigsFd, 0);
    writeSync(this.sigsFd, new Uint8Array(live.buffer));
    this.blobSigs = docs.length;
  }

  private compact(refs: TokenRef[]): void {
    const idsTmp = `${this.idsPath}.tmp`;
    const weightsTmp = `${this.weightsPath}.tmp`;
    const idsOut = openSync(idsTmp, 'w');
    const weightsOut = openSync(weightsTmp, 'w');
    let offset = 0;
    for (const ref of refs) {
      const { ids, weights } = this.readTokens(ref);
      writeSync(idsOut, new Uint8Array(ids.buffer));
      writeSync(weightsOut, weights);
      ref.offset = offset;
      offset += ref.length;
    }
    closeSync(idsOut);
    closeSync(weightsOut);
    renameSync(idsTmp, this.idsPath);
    renameSync(weightsTmp, this.weightsPath);
    this.blobTokens = offset;
  }
}

/**
 * Renames `from` over `to`, moving the old `to` aside first and unlinking it in the background:
 * replacing a file by rename makes ext4 flush the new one and free the old one's blocks on the spot.
 */
function replaceInBackground(from: string, to: string): void {
  const aside = `${to}.old-${process.pid}`;
  let moved = false;
  try {
    renameSync(to, aside);
    moved = true;
  } catch {
    // nothing there yet
  }
  renameSync(from, to);
  if (moved) unlink(aside, () => {});
}

function readFully(fd: number, into: Uint8Array, bytes: number, position: number): void {
  for (let done = 0; done < bytes;) {
    const n = readSync(fd, into, done, bytes - done, position + done);
    if (n === 0) throw new Error('the dataset cache blob is shorter than its index says; build again');
    done += n;
  }
}

/** The signature at `at` in a blob read by `readSigs`. */
export function signature(all: Uint32Array, at: number): Uint32Array {
  return all.subarray(at * NUM_HASHES, (at + 1) * NUM_HASHES);
}
