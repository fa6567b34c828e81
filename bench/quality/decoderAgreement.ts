/**
 * How closely one decoder follows another on the same token windows (teacher-forced): each
 * window's logits at every position, the mean cross-entropy of the next token, and the share of
 * positions whose top token is the reference's. Shared by bench/quality/int8Inference.ts and the
 * int8 decoder's quality test.
 */
import { tokenStreamFromFiles } from '../../src/data/datasetFiles';
import type { Decoder } from '../../src/engine/generate/decoder';
import { argmax, logProbability } from '../../src/engine/generate/sampling';
import { loadTokenizer } from '../../src/engine/tokenizer/tokenizer';

/** Up to `count` consecutive windows of T + 1 tokens (T inputs, the last a label only) of `files`. */
export async function codeWindows(
  modelDir: string,
  files: string[],
  count: number,
  T: number,
): Promise<number[][]> {
  const { ids } = await tokenStreamFromFiles(files, await loadTokenizer(modelDir), { modelDir });
  const n = Math.min(count, Math.floor(ids.length / (T + 1)));
  return Array.from({ length: n }, (_, w) => Array.from(ids.subarray(w * (T + 1), (w + 1) * (T + 1))));
}

/** Logits [T, V] of each window's first T tokens. */
export async function windowLogits(decoder: Decoder, windows: readonly number[][]): Promise<Float32Array[]> {
  const rows: Float32Array[] = [];
  for (const w of windows) {
    const { logits } = await decoder.forward(w.slice(0, -1), decoder.emptyPast(), 0, { allLogits: true });
    rows.push(logits.slice());
  }
  return rows;
}

const row = (logits: Float32Array, t: number, V: number) => logits.subarray(t * V, (t + 1) * V);

/** Mean −log p(next token) over every position of every window. */
export function crossEntropy(
  logits: readonly Float32Array[],
  windows: readonly number[][],
  V: number,
): number {
  let sum = 0;
  let n = 0;
  logits.forEach((rows, w) => {
    for (let t = 0; t + 1 < windows[w].length; t++, n++)
      sum -= logProbability(row(rows, t, V), windows[w][t + 1]);
  });
  return sum / n;
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
      if (argmax(row(rows, t, V)) === argmax(row(reference[w], t, V))) same++;
  });
  return same / n;
}
