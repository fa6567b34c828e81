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
  readFileSync,
  readSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import type { ScrubFinding } from './scrub';
import type { SkipReason } from './skips';

// 2: the exact hash is taken over tokens (fingerprints of version 1 do not compare).
const CACHE_VERSION = 2;

export interface TokenRef {
  offset: number;
  length: number;
}

export interface CachedDoc {
  line: number | null;
  exact: string;
  /** MinHash signature, base64 of the Uint32Array bytes. */
  sig: string;
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
  files: Record<string, CachedFile>;
}

export class BuildCache {
  private readonly files: Record<string, CachedFile>;
  private readonly idsFd: number;
  private readonly weightsFd: number;
  private blobTokens: number;
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
    }
    this.files = index?.files ?? {};
    this.idsFd = openSync(this.idsPath, 'a+');
    this.weightsFd = openSync(this.weightsPath, 'a+');
    this.blobTokens = statSync(this.weightsPath).size;
  }

  private get idsPath(): string {
    return join(this.dir, 'tokens.u32');
  }
  private get weightsPath(): string {
    return join(this.dir, 'weights.u8');
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
    const ref = { offset: this.blobTokens, length: ids.length };
    writeSync(this.idsFd, new Uint8Array(Uint32Array.from(ids).buffer));
    writeSync(this.weightsFd, Uint8Array.from(weights));
    this.blobTokens += ids.length;
    return ref;
  }

  readTokens(ref: TokenRef): { ids: Uint32Array; weights: Uint8Array } {
    const ids = new Uint32Array(ref.length);
    const weights = new Uint8Array(ref.length);
    readSync(this.idsFd, new Uint8Array(ids.buffer), 0, ref.length * 4, ref.offset * 4);
    readSync(this.weightsFd, weights, 0, ref.length, ref.offset);
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
    const tmp = `${this.indexPath}.tmp`;
    writeFileSync(
      tmp,
      JSON.stringify({ version: CACHE_VERSION, configKey: this.configKey, files: this.files }),
    );
    renameSync(tmp, this.indexPath);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    closeSync(this.idsFd);
    closeSync(this.weightsFd);
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
