// Writes one split's packed stream: Uint32 LE token ids and one loss-weight byte per token.
// Documents are taken from the build cache's blobs: `add` notes them (neighbours in the blobs join
// one run), `write` copies the runs through fixed buffers (the stream can be far larger than memory
// allows to hold twice) with asynchronous reads and writes, so the build's thread can save its
// cache index meanwhile.
import { createHash, type Hash } from 'node:crypto';
import { close, open, read, write } from 'node:fs';
import { endianness } from 'node:os';
import { promisify } from 'node:util';
import type { BuildCache, TokenRef } from './cache';

const BUFFER_TOKENS = 1 << 20;

if (endianness() !== 'LE')
  throw new Error('LocalTune dataset files are little-endian; this machine is big-endian');

const openAsync = promisify(open);
const closeAsync = promisify(close);
const readAsync = promisify(read);
const writeAsync = promisify(write);

export class PackWriter {
  tokens = 0;
  lossTokens = 0;
  documents = 0;
  /** Over the documents' hashes in stream order (each hashes its ids and weights). */
  readonly documentsHash: Hash = createHash('sha256');
  /** Runs of tokens in the cache blobs, as offset, length pairs. */
  private readonly runs: number[] = [];

  constructor(
    private readonly idsPath: string,
    private readonly weightsPath: string,
    private readonly cache: BuildCache,
  ) {}

  /** Appends one document (its EOS already included). */
  add(ref: TokenRef): void {
    this.documents++;
    this.tokens += ref.length;
    this.lossTokens += ref.loss;
    this.documentsHash.update(ref.hash);
    const n = this.runs.length;
    if (n > 0 && this.runs[n - 2] + this.runs[n - 1] === ref.offset) this.runs[n - 1] += ref.length;
    else this.runs.push(ref.offset, ref.length);
  }

  /** Writes the stream's two files from the cache blobs (which stay open until this ends). */
  async write(): Promise<void> {
    const [idsIn, weightsIn] = this.cache.blobFds();
    const ids = new Uint8Array(BUFFER_TOKENS * 4);
    const weights = new Uint8Array(BUFFER_TOKENS);
    const idsOut = await openAsync(this.idsPath, 'w');
    let weightsOut: number | null = null;
    try {
      weightsOut = await openAsync(this.weightsPath, 'w');
      for (let r = 0; r < this.runs.length; r += 2) {
        for (let offset = this.runs[r], left = this.runs[r + 1]; left > 0;) {
          const n = Math.min(left, BUFFER_TOKENS);
          await Promise.all([
            readFully(idsIn, ids, n * 4, offset * 4),
            readFully(weightsIn, weights, n, offset),
          ]);
          await Promise.all([writeAsync(idsOut, ids, 0, n * 4), writeAsync(weightsOut, weights, 0, n)]);
          offset += n;
          left -= n;
        }
      }
    } finally {
      await closeAsync(idsOut);
      if (weightsOut !== null) await closeAsync(weightsOut);
    }
  }
}

async function readFully(fd: number, into: Uint8Array, bytes: number, position: number): Promise<void> {
  for (let done = 0; done < bytes;) {
    const { bytesRead } = await readAsync(fd, into, done, bytes - done, position + done);
    if (bytesRead === 0)
      throw new Error('the dataset cache blob is shorter than its index says; build again');
    done += bytesRead;
  }
}
