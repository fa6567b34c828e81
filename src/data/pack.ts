// Writes one split's packed stream: Uint32 LE token ids and one loss-weight byte per token, as
// segment files (manifest.ts: StreamSegment). Segments end at content-defined places (after a
// document whose hash has its low bits zero, once the segment is large enough), so an edit changes
// the segments around the edited documents only, and each segment file is named by a hash of its
// documents: a rebuild writes the segments it lacks and keeps the rest. A fresh build and a rebuild
// make the same segments (they are a function of the documents in stream order).
// Documents are taken from the build cache's blobs: `add` notes them (neighbours in the blobs join
// one run), `write` copies the runs through fixed buffers (the stream can be far larger than memory
// allows to hold twice) with asynchronous reads and writes, so the build's thread can save its
// cache index meanwhile.
import { createHash, type Hash } from 'node:crypto';
import { close, open, read, rename, stat, write } from 'node:fs';
import { endianness } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { BuildCache, TokenRef } from './cache';
import type { StreamSegment } from './manifest';

const BUFFER_TOKENS = 1 << 20;
// A segment ends after a document whose hash has these low bits zero, once it holds the minimum;
// at the maximum it ends regardless (~2M tokens, 10 MB, per segment for source code).
export interface SegmentShape {
  /** A segment may end after a document whose hash ANDed with this is zero... */
  docsMask: number;
  /** ...once it holds this many tokens; */
  minTokens: number;
  /** it ends at this many regardless. */
  maxTokens: number;
}
export const DEFAULT_SEGMENTS: SegmentShape = { docsMask: 255, minTokens: 1 << 20, maxTokens: 1 << 24 };

/** Segment file names: `<split>-<16 hex>.ids.u32` / `.weights.u8` (and `.tmp` while written). */
export const SEGMENT_FILE = /^(train|validation)-[0-9a-f]{16}\.(ids\.u32|weights\.u8)(\.tmp)?$/;

if (endianness() !== 'LE')
  throw new Error('LocalTune dataset files are little-endian; this machine is big-endian');

const openAsync = promisify(open);
const closeAsync = promisify(close);
const readAsync = promisify(read);
const writeAsync = promisify(write);
const renameAsync = promisify(rename);
const statAsync = promisify(stat);

interface Segment extends StreamSegment {
  /** Runs of tokens in the cache blobs, as offset, length pairs. */
  runs: number[];
}

export class PackWriter {
  tokens = 0;
  lossTokens = 0;
  documents = 0;
  /** Over the documents' hashes in stream order (each hashes its ids and weights). */
  readonly documentsHash: Hash = createHash('sha256');
  /** Segments written by `write` (the others were already there). */
  segmentsWritten = 0;
  private readonly done: Segment[] = [];
  private runs: number[] = [];
  private segmentTokens = 0;
  private segmentHash: Hash = createHash('sha256');

  constructor(
    private readonly outDir: string,
    private readonly split: 'train' | 'validation',
    private readonly cache: BuildCache,
    private readonly shape: SegmentShape = DEFAULT_SEGMENTS,
  ) {}

  /** Appends one document (its EOS already included). */
  add(ref: TokenRef): void {
    this.documents++;
    this.tokens += ref.length;
    this.lossTokens += ref.loss;
    this.documentsHash.update(ref.hash);
    this.segmentHash.update(ref.hash);
    this.segmentTokens += ref.length;
    const n = this.runs.length;
    if (n > 0 && this.runs[n - 2] + this.runs[n - 1] === ref.offset) this.runs[n - 1] += ref.length;
    else this.runs.push(ref.offset, ref.length);
    if (
      this.segmentTokens >= this.shape.maxTokens ||
      (this.segmentTokens >= this.shape.minTokens && (lowBits(ref.hash) & this.shape.docsMask) === 0)
    )
      this.endSegment();
  }

  /** The stream's segments in order (ends the last one). */
  segments(): StreamSegment[] {
    this.endSegment();
    return this.done.map(({ ids, weights, tokens }) => ({ ids, weights, tokens }));
  }

  private endSegment(): void {
    if (this.segmentTokens === 0) return;
    const name = `${this.split}-${this.segmentHash.digest('hex').slice(0, 16)}`;
    this.done.push({
      ids: `${name}.ids.u32`,
      weights: `${name}.weights.u8`,
      tokens: this.segmentTokens,
      runs: this.runs,
    });
    this.runs = [];
    this.segmentTokens = 0;
    this.segmentHash = createHash('sha256');
  }

  /**
   * Writes the segments the output folder lacks from the cache blobs (which stay open until this
   * ends); each is written under a temporary name and renamed into place.
   */
  async write(): Promise<void> {
    this.endSegment();
    const [idsIn, weightsIn] = this.cache.blobFds();
    const ids = new Uint8Array(BUFFER_TOKENS * 4);
    const weights = new Uint8Array(BUFFER_TOKENS);
    for (const seg of this.done) {
      const idsPath = join(this.outDir, seg.ids);
      const weightsPath = join(this.outDir, seg.weights);
      if ((await sizeOf(idsPath)) === seg.tokens * 4 && (await sizeOf(weightsPath)) === seg.tokens) continue;
      const idsOut = await openAsync(`${idsPath}.tmp`, 'w');
      let weightsOut: number | null = null;
      try {
        weightsOut = await openAsync(`${weightsPath}.tmp`, 'w');
        for (let r = 0; r < seg.runs.length; r += 2) {
          for (let offset = seg.runs[r], left = seg.runs[r + 1]; left > 0;) {
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
      await Promise.all([
        renameAsync(`${idsPath}.tmp`, idsPath),
        renameAsync(`${weightsPath}.tmp`, weightsPath),
      ]);
      this.segmentsWritten++;
    }
  }
}

/** The low 32 bits of a document hash (base64 SHA-256): where segments end. */
function lowBits(hashBase64: string): number {
  return Buffer.from(hashBase64.slice(0, 8), 'base64').readUInt32LE(0);
}

async function sizeOf(path: string): Promise<number> {
  try {
    return (await statAsync(path)).size;
  } catch {
    return -1;
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
