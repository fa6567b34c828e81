/**
 * Trainables a full fine-tune holds transposed: the graph's value is the [cols, rows] transpose
 * of the Hugging Face weight [rows, cols]. nn.Linear weights [out, in] (Llama, Qwen2, GPTBigCode)
 * are multiplied as [in, out]; held that way, no Transpose of each weight runs forward and none
 * of its gradient backward, in every step. Files (checkpoints, models) always hold the Hugging
 * Face layout; these convert at the edges.
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

/** A trainable's graph shape, and whether its value is the transpose of the stored weight. */
type Laid = Pick<Trainable, 'shape' | 'transposed'>;

/** A trainable's value (or optimizer moment) in its stored layout, with its stored shape. */
export function toStored(t: Laid, data: Float32Array): { data: Float32Array; shape: number[] } {
  if (!t.transposed) return { data, shape: t.shape };
  const [rows, cols] = t.shape;
  return { data: transpose2d(data, rows, cols), shape: [cols, rows] };
}

/** A stored value (or moment) in the graph's layout of `t`. */
export function fromStored(t: Laid, data: Float32Array): Float32Array {
  if (!t.transposed) return data;
  const [rows, cols] = t.shape;
  return transpose2d(data, cols, rows);
}
