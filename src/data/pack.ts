// Writes one split's packed stream: Uint32 LE token ids and one loss-weight byte per token,
// through fixed buffers (the stream can be far larger than memory allows to hold twice).
import { createHash, type Hash } from 'node:crypto';
import { closeSync, openSync, writeSync } from 'node:fs';
import { endianness } from 'node:os';

const BUFFER_TOKENS = 1 << 18;

if (endianness() !== 'LE')
  throw new Error('LocalTune dataset files are little-endian; this machine is big-endian');

export class PackWriter {
  tokens = 0;
  lossTokens = 0;
  documents = 0;
  private readonly ids = new Uint32Array(BUFFER_TOKENS);
  private readonly weights = new Uint8Array(BUFFER_TOKENS);
  private fill = 0;
  private readonly idsFd: number;
  private readonly weightsFd: number;
  readonly idsHash: Hash = createHash('sha256');
  readonly weightsHash: Hash = createHash('sha256');

  constructor(idsPath: string, weightsPath: string) {
    this.idsFd = openSync(idsPath, 'w');
    this.weightsFd = openSync(weightsPath, 'w');
  }

  /** Appends one document (its EOS already included). */
  add(ids: ArrayLike<number>, weights: ArrayLike<number>): void {
    this.documents++;
    for (let i = 0; i < ids.length; i++) {
      if (this.fill === BUFFER_TOKENS) this.flush();
      this.ids[this.fill] = ids[i];
      this.weights[this.fill] = weights[i];
      this.lossTokens += weights[i];
      this.fill++;
    }
    this.tokens += ids.length;
  }

  close(): void {
    this.flush();
    closeSync(this.idsFd);
    closeSync(this.weightsFd);
  }

  private flush(): void {
    const ids = new Uint8Array(this.ids.buffer, 0, this.fill * 4);
    const weights = this.weights.subarray(0, this.fill);
    writeSync(this.idsFd, ids);
    writeSync(this.weightsFd, weights);
    this.idsHash.update(ids);
    this.weightsHash.update(weights);
    this.fill = 0;
  }
}
