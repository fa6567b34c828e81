/**
 * Makes a dataset preview (datasetPreview.ts): reads the dataset folder and decodes its first
 * training documents with the model's tokenizer. Runs in the worker (job kind `preview`): loading
 * a tokenizer does not belong in the extension host.
 */
import { existsSync } from 'node:fs';
import { readDataset, type TokenStream } from '../data/datasetFiles';
import type { DatasetManifest } from '../data/manifest';
import { loadTokenizer } from '../engine/tokenizer/tokenizer';
import type { DatasetPreview, DatasetSample } from './datasetPreview';

/**
 * The preview of `datasetDir` with up to `count` samples, decoded with `modelDir`'s tokenizer (by
 * default the one the dataset was built with; no samples when that folder is gone).
 */
export async function previewDataset(
  datasetDir: string,
  count: number,
  modelDir?: string,
): Promise<DatasetPreview> {
  const { manifest, train } = readDataset(datasetDir);
  const dir = modelDir ?? manifest.tokenizer.modelPath;
  const modelFound = existsSync(dir);
  const samples = count > 0 && modelFound ? await decodeSamples(train, dir, manifest, count) : [];
  return { datasetDir, manifest, modelDir: dir, modelFound, requested: count, samples };
}

/** The first `count` documents of a token stream (each ends with the end-of-text token), decoded. */
export async function decodeSamples(
  train: TokenStream,
  modelDir: string,
  manifest: DatasetManifest,
  count: number,
): Promise<DatasetSample[]> {
  const tokenizer = await loadTokenizer(modelDir);
  const samples: DatasetSample[] = [];
  let start = 0;
  for (let i = 0; i < train.ids.length && samples.length < count; i++) {
    if (train.ids[i] !== manifest.tokenizer.eosId) continue;
    let loss = 0;
    for (let j = start; j <= i; j++) loss += train.weights[j];
    const ids = [...train.ids.subarray(start, i)];
    const weights = train.weights.subarray(start, i);
    const mixed = weights.some((w) => w > 0) && weights.some((w) => w === 0);
    samples.push({
      text: tokenizer.decode(ids),
      tokens: i + 1 - start,
      lossTokens: loss,
      spans: mixed ? lossSpans(ids, weights, tokenizer.decode) : undefined,
    });
    start = i + 1;
  }
  return samples;
}

/** Runs of tokens with and without loss, each decoded. */
export function lossSpans(
  ids: number[],
  weights: ArrayLike<number>,
  decode: (ids: number[]) => string,
): { text: string; loss: boolean }[] {
  const spans: { text: string; loss: boolean }[] = [];
  let from = 0;
  for (let j = 1; j <= ids.length; j++) {
    if (j < ids.length && weights[j] > 0 === weights[from] > 0) continue;
    spans.push({ text: decode(ids.slice(from, j)), loss: weights[from] > 0 });
    from = j;
  }
  return spans;
}
