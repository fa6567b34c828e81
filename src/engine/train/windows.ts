/**
 * Training examples cut from a packed token stream: windows of T+1 tokens give input ids
 * (first T), labels (last T) and loss weights (of the labels). The order is a seeded shuffle
 * per epoch, so a data position (epoch, index) is all a checkpoint needs to resume.
 */
import { Rng } from '../rng';

export interface TokenStream {
  ids: Uint32Array;
  /** 1 = the loss counts this token (as a label), 0 = it does not. */
  weights: Uint8Array;
}

export interface DataPosition {
  epoch: number;
  index: number;
}

export class Windows {
  readonly count: number;
  private order: Uint32Array;
  private orderEpoch = -1;

  constructor(
    private readonly stream: TokenStream,
    readonly seqLen: number,
    private readonly seed: number,
  ) {
    this.count = Math.floor((stream.ids.length - 1) / seqLen);
    this.order = new Uint32Array(this.count);
  }

  private orderFor(epoch: number): Uint32Array {
    if (this.orderEpoch !== epoch) {
      const rng = new Rng(this.seed).fork(`epoch-${epoch}`);
      for (let i = 0; i < this.count; i++) this.order[i] = i;
      for (let i = this.count - 1; i > 0; i--) {
        const j = rng.nextInt(i + 1);
        [this.order[i], this.order[j]] = [this.order[j], this.order[i]];
      }
      this.orderEpoch = epoch;
    }
    return this.order;
  }

  /** Writes window `w` (unshuffled index) into row `row` of the batch buffers. */
  fill(w: number, row: number, ids: BigInt64Array, labels: BigInt64Array, weights: Float32Array): number {
    const T = this.seqLen;
    const start = w * T;
    let weightSum = 0;
    for (let t = 0; t < T; t++) {
      ids[row * T + t] = BigInt(this.stream.ids[start + t]);
      labels[row * T + t] = BigInt(this.stream.ids[start + t + 1]);
      const wt = this.stream.weights[start + t + 1];
      weights[row * T + t] = wt;
      weightSum += wt;
    }
    return weightSum;
  }

  /** The next `n` window indices from `pos`, advancing it (wrapping into new epochs). */
  take(pos: DataPosition, n: number): number[] {
    const out: number[] = [];
    while (out.length < n) {
      if (pos.index >= this.count) {
        pos.epoch++;
        pos.index = 0;
      }
      out.push(this.orderFor(pos.epoch)[pos.index++]);
    }
    return out;
  }
}

/** Splits off the last `fraction` of a stream as validation data (for plain files without a split). */
export function holdOutTail(
  stream: TokenStream,
  fraction: number,
): { train: TokenStream; validation: TokenStream } {
  const cut = Math.floor(stream.ids.length * (1 - fraction));
  return {
    train: { ids: stream.ids.subarray(0, cut), weights: stream.weights.subarray(0, cut) },
    validation: { ids: stream.ids.subarray(cut), weights: stream.weights.subarray(cut) },
  };
}
