// The incremental-build cache, in <out>/cache/: per source file (keyed by its id, checked by size +
// mtime, then by a hash of its bytes) the filter verdict, scrub findings, fingerprints and token
// ids. Token ids live in two append-only blobs; the index is rewritten atomically at the end of a
// build, and the blobs are compacted when most of them is dead. A cache made with other settings
// (tokenizer, seed, FIM rates, scrub marks) is discarded as a whole.
import {
  existsSync,
  mkdirSync,
  openSync,
  closeSync,
  ftruncateSync,
  readFileSync,
  readSync,
  renameSync,
  rmSync,
  statSync,
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
const CACHE_VERSION = 3;

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
  /** Signatures in the signature blob when the index was written. */
  sigs: number;
  files: Record<string, CachedFile>;
}

const SIG_BYTES = NUM_HASHES * 4;

export class BuildCache {
  private readonly files: Record<string, CachedFile>;
  private readonly idsFd: number;
  private readonly weightsFd: number;
  private readonly sigsFd: number;
  private blobTokens: number;
  private blobSigs: number;
  private closed = false;

  constructor(
    private readonly dir: string,
    private readonly configKey: string,
  ) {
    mkdirSync(dir, { recursive: true });
    const index = this.load();
    if (!index) {
      rmSync(this.idsPath, { force: true });
      rmSync(this.weightsPath, { force: true });
      rmSync(this.sigsPath, { force: true });
    }
    this.files = index?.files ?? {};
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

  private load(): Index | null {
    if (!existsSync(this.indexPath)) return null;
    try {
      const index = JSON.parse(readFileSync(this.indexPath, 'utf8')) as Index;
      if (index.version !== CACHE_VERSION || index.configKey !== this.configKey) return null;
      // Blobs cut short by a crash after the index was written cannot be trusted.
      if (statSync(this.idsPath).size !== statSync(this.weightsPath).size * 4) return null;
      if (statSync(this.sigsPath).size !== index.sigs * SIG_BYTES) return null;
      return index;
    } catch {
      return null;
    }
  }

  get(key: string): CachedFile | undefined {
    return this.files[key];
  }

  set(key: string, entry: CachedFile): void {
    this.files[key] = entry;
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

  /** Keeps only the files in `live`, compacts the blobs when over half is dead, writes the index. */
  save(live: Set<string>): void {
    for (const key of Object.keys(this.files)) if (!live.has(key)) delete this.files[key];
    const refs = Object.values(this.files).flatMap((f) =>
      (f.docs ?? []).flatMap((d) => (d.tokens ? [d.tokens] : [])),
    );
    const liveTokens = refs.reduce((n, r) => n + r.length, 0);
    if (liveTokens * 2 < this.blobTokens) this.compact(refs);
    const docs = Object.values(this.files).flatMap((f) => f.docs ?? []);
    if (docs.length * 2 <= this.blobSigs && this.blobSigs > docs.length) this.compactSigs(docs);
    const tmp = `${this.indexPath}.tmp`;
    const index: Index = {
      version: CACHE_VERSION,
      configKey: this.configKey,
      sigs: this.blobSigs,
      files: this.files,
    };
    writeFileSync(tmp, JSON.stringify(index));
    renameSync(tmp, this.indexPath);
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
