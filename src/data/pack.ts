// Writes one split's packed stream: Uint32 LE token ids and one loss-weight byte per token,
// through fixed buffers (the stream can be far larger than memory allows to hold twice). Documents
// are copied from the build cache's blobs straight into the buffers, runs of neighbours at once.
import { createHash, type Hash } from 'node:crypto';
import { closeSync, openSync, writeSync } from 'node:fs';
import type { BuildCache, TokenRef } from './cache';
import { endianness } from 'node:os';

const BUFFER_TOKENS = 1 << 18;

if (endianness() !== 'LE')
  throw new Error('LocalTune dataset files are little-endian; this machine is big-endian');

export class PackWriter {
  tokens = 0;
  lossTokens = 0;
  documents = 0;
  private readonly ids = new Uint8Array(BUFFER_TOKENS * 4);
  private readonly weights = new Uint8Array(BUFFER_TOKENS);
  private fill = 0;
  private readonly idsFd: number;
  private readonly weightsFd: number;
  /** Over the documents' hashes in stream order (each hashes its ids and weights). */
  readonly documentsHash: Hash = createHash('sha256');
  // Documents whose tokens lie next to each other in the cache blobs, not yet copied.
  private runOffset = 0;
  private runLength = 0;

  constructor(
    idsPath: string,
    weightsPath: string,
    private readonly cache: BuildCache,
  ) {
    this.idsFd = openSync(idsPath, 'w');
    this.weightsFd = openSync(weightsPath, 'w');
  }

  /** Appends one document (its EOS already included) from the cache blobs. */
  add(ref: TokenRef): void {
    this.documents++;
    this.tokens += ref.length;
    this.lossTokens += ref.loss;
    this.documentsHash.update(ref.hash);
    if (this.runLength > 0 && ref.offset === this.runOffset + this.runLength) {
      this.runLength += ref.length;
      return;
    }
    this.copyRun();
    this.runOffset = ref.offset;
    this.runLength = ref.length;
  }

  close(): void {
    this.copyRun();
    this.flush();
    closeSync(this.idsFd);
    closeSync(this.weightsFd);
  }

  private copyRun(): void {
    while (this.runLength > 0) {
      if (this.fill === BUFFER_TOKENS) this.flush();
      const n = Math.min(this.runLength, BUFFER_TOKENS - this.fill);
      this.cache.readInto(
        this.runOffset,
        n,
        this.ids.subarray(this.fill * 4, (this.fill + n) * 4),
        this.weights.subarray(this.fill, this.fill + n),
      );
      this.fill += n;
      this.runOffset += n;
      this.runLength -= n;
    }
  }

  private flush(): void {
    writeSync(this.idsFd, this.ids, 0, this.fill * 4);
    writeSync(this.weightsFd, this.weights, 0, this.fill);
    this.fill = 0;
  }
}
