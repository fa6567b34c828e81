/**
 * The completion benchmark on a dataset's held-out spans with and without workspace context (the
 * files each held-out file imports and its folder's other held-out files, as the editor would
 * send them): prints one JSON document with both figures (exact match, edit similarity).
 *   npx tsx bench/completionContext.ts --model DIR --dataset DIR [--adapter DIR] [--spans N] [--seed N]
 * --adapter: a run's adapter or fully tuned model folder, as `localtune eval` takes it.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { readManifest } from '../src/data/datasetFiles';
import { MANIFEST_FILE } from '../src/data/manifest';
import { Completer } from '../src/engine/complete/completer';
import { Decoder } from '../src/engine/generate/decoder';
import { loadModel } from '../src/engine/models';
import { loadTokenizer } from '../src/engine/tokenizer/tokenizer';
import { compareContext } from '../src/eval/contextBenchmark';
import { benchmarkSpans, loadTuned } from '../src/eval/evaluate';
import { spanRequest, withWorkspaceContext } from '../src/eval/spans';

const arg = (f: string) => {
  const i = process.argv.indexOf(f);
  return i >= 0 ? process.argv[i + 1] : undefined;
};
const modelDir = arg('--model');
const datasetDir = arg('--dataset');
if (!modelDir || !datasetDir) {
  console.error('usage: npx tsx bench/completionContext.ts --model DIR --dataset DIR [--spans N] [--seed N]');
  process.exit(2);
}
const manifest = readManifest(join(datasetDir, MANIFEST_FILE));
const seed = Number(arg('--seed') ?? 0);
const spans = withWorkspaceContext(
  benchmarkSpans(manifest, datasetDir, { count: Number(arg('--spans') ?? 30), seed }),
  manifest.heldOut?.files ?? [],
  (p) => {
    try {
      return readFileSync(p, 'utf8');
    } catch {
      return undefined;
    }
  },
);
async function main(): Promise<void> {
  const adapterDir = arg('--adapter');
  const tuned = adapterDir ? loadTuned(adapterDir) : {};
  const model = tuned.model ?? loadModel(modelDir!);
  const decoder = await Decoder.fromModel(model, { adapter: tuned.adapter });
  model.weights.close();
  const completer = new Completer(decoder, await loadTokenizer(modelDir!), { timeBudgetMs: 600_000 });
  await completer.warmUp();
  const figures = await compareContext(spans, async (span) => {
    const c = await completer.complete(spanRequest(span));
    return { text: c.text, latencyMs: c.latencyMs };
  });
  const brief = (f: typeof figures.with) => ({
    spans: f.spans,
    exactMatch: +f.exactMatch.toFixed(3),
    editSimilarity: +f.editSimilarity.toFixed(3),
    latencyP50Ms: +f.latencyMs.p50.toFixed(1),
  });
  console.log(
    JSON.stringify(
      {
        model: modelDir,
        adapter: adapterDir ?? null,
        dataset: manifest.name,
        spansWithContext: figures.spansWithContext,
        without: brief(figures.without),
        with: brief(figures.with),
      },
      null,
      2,
    ),
  );
}

void main();
