/**
 * Trainables a full fine-tune holds in a layout of its own; files (checkpoints, models) always
 * hold the Hugging Face layout, and these convert at the edges.
 *
 * - Transposed: the graph's value is the [cols, rows] transpose of the weight [rows, cols].
 *   nn.Linear weights [out, in] (Llama, Qwen2, GPTBigCode) are multiplied as [in, out]; held that
 *   way, no Transpose of each weight runs forward and none of its gradient backward, in every step.
 * - Padded: zeros appended along some axes (see models/common.ts stridePad). Held padded, no Concat
 *   of each weight runs forward and no Split of its gradient backward. The padding's gradient is
 *   exactly zero (it meets zero activations), so AdamW leaves it zero.
 */
import type { Trainable } from './params';

/** The [cols, rows] transpose of a row-major [rows, cols] matrix, in cache-sized tiles. */
export function transpose2d(data: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(data.length);
  const TILE = 64;
  for (let i0 = 0; i0 < rows; i0 += TILE)
    for (let j0 = 0; j0 < cols; j0 += TILE) {
      const [i1, j1] = [Math.min(i0 + TILE, rows), Math.min(j0 + TILE, cols)];
      for (let i = i0; i < i1; i++) for (let j = j0; j < j1; j++) out[j * rows + i] = data[i * cols + j];
    }
  return out;
}

/** A vector or matrix of `shape` with `pads[i]` zeros appended along axis i (rank 1 or 2). */
export function padZeros(data: Float32Array, shape: readonly number[], pads: readonly number[]): Float32Array {
  const [rows, cols] = shape.length === 1 ? [1, shape[0]] : shape;
  const padCols = pads[shape.length - 1] ?? 0;
  const padRows = shape.length === 1 ? 0 : (pads[0] ?? 0);
  const out = new Float32Array((rows + padRows) * (cols + padCols));
  for (let r = 0; r < rows; r++) out.set(data.subarray(r * cols, (r + 1) * cols), r * (cols + padCols));
  return out;
}

/** The inverse of padZeros: `shape` is the padded one. */
export function unpadZeros(data: Float32Array, shape: readonly number[], pads: readonly number[]): Float32Array {
  const [rows, cols] = shape.length === 1 ? [1, shape[0]] : shape;
  const keptCols = cols - (pads[shape.length - 1] ?? 0);
  const keptRows = shape.length === 1 ? 1 : rows - (pads[0] ?? 0);
  const out = new Float32Array(keptRows * keptCols);
  for (let r = 0; r < keptRows; r++) out.set(data.subarray(r * cols, r * cols + keptCols), r * keptCols);
  return out;
}

/** A trainable's graph shape, and how its value differs from the stored weight. */
type Laid = Pick<Trainable, 'shape' | 'transposed' | 'padded'>;

/** The graph's shape without its padding. */
function unpaddedShape(t: Laid): number[] {
  return t.shape.map((d, i) => d - (t.padded?.[i] ?? 0));
}

/** A trainable's value (or optimizer moment) in its stored layout, with its stored shape. */
export function toStored(t: Laid, data: Float32Array): { data: Float32Array; shape: number[] } {
  const shape = unpaddedShape(t);
  const kept = t.padded ? unpadZeros(data, t.shape, t.padded) : data;
  if (!t.transposed) return { data: kept, shape };
  const [rows, cols] = shape;
  return { data: transpose2d(kept, rows, cols), shape: [cols, rows] };
}

/** A stored value (or moment) in the graph's layout of `t`. */
export function fromStored(t: Laid, data: Float32Array): Float32Array {
  const shape = unpaddedShape(t);
  const laid = t.transposed ? transpose2d(data, shape[1], shape[0]) : data;
  return t.padded ? padZeros(laid, shape, t.padded) : laid;
}
