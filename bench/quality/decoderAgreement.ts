/**
 * How closely one decoder follows another on the same token windows (teacher-forced): each
 * window's logits at every position, the mean cross-entropy of the next token, and the share of
 * positions whose top token is the reference's. Shared by bench/quality/int8Inference.ts and the
 * int8 decoder's quality test.
 */
import type { Decoder } from '../../src/engine/generate/decoder';

/** Logits [T, V] of each window's first T tokens (a window holds T + 1: the last is a label only). */
export async function windowLogits(decoder: Decoder, windows: readonly number[][]): Promise<Float32Array[]> {
  const rows: Float32Array[] = [];
  for (const w of windows) {
    const { logits } = await decoder.forward(w.slice(0, -1), decoder.emptyPast(), 0, { allLogits: true });
    rows.push(logits.slice());
  }
  return rows;
}

/** Mean −log p(next token) over every position of every window. */
export function crossEntropy(
  logits: readonly Float32Array[],
  windows: readonly number[][],
  V: number,
): number {
  let sum = 0;
  let n = 0;
  logits.forEach((rows, w) => {
    for (let t = 0; t + 1 < windows[w].length; t++, n++) {
      let max = -Infinity;
      for (let v = 0; v < V; v++) max = Math.max(max, rows[t * V + v]);
      let z = 0;
      for (let v = 0; v < V; v++) z += Math.exp(rows[t * V + v] - max);
      sum -= rows[t * V + windows[w][t + 1]] - max - Math.log(z);
    }
  });
  return sum / n;
}

function argmaxRow(rows: Float32Array, t: number, V: number): number {
  let best = 0;
  for (let v = 1; v < V; v++) if (rows[t * V + v] > rows[t * V + best]) best = v;
  return best;
}

/** The share of positions where both decoders' top tokens agree. */
export function top1Agreement(
  logits: readonly Float32Array[],
  reference: readonly Float32Array[],
  V: number,
): number {
  let same = 0;
  let n = 0;
  logits.forEach((rows, w) => {
    for (let t = 0; t < rows.length / V; t++, n++)
      if (argmaxRow(rows, t, V) === argmaxRow(reference[w], t, V)) same++;
  });
  return same / n;
}
