/**
 * One evaluation, base vs tuned, on a dataset's held-out data: validation loss and perplexity on
 * the validation split, and the completion benchmark on spans masked in the held-out files (never
 * training files), answered through the completion engine as the editor would ask. Everything but
 * latency is deterministic for a seed: greedy decoding, and no time budget cuts an answer short.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { readDataset } from '../data/datasetFiles';
import type { DatasetManifest } from '../data/manifest';
import { sampleText } from '../data/prepare';
import { processFile } from '../data/sources';
import { Completer } from '../engine/complete/completer';
import { OptionError, UserError } from '../engine/errors';
import { Decoder } from '../engine/generate/decoder';
import { loadAdapter, type Adapter } from '../engine/formats/peft';
import { loadTokenizer } from '../engine/tokenizer/tokenizer';
import { loadModel, type LoadedModel } from '../engine/models';
import { runBenchmark, summarize, type SpanResult } from './benchmark';
import { validationLoss } from './perplexity';
import type { EvalReport, EvalSample, ModelFigures } from './report';
import { maskSpans, SPAN_KINDS, spanRequest, type MaskedSpan } from './spans';

export interface EvalOptions {
  /** The base model folder. */
  modelDir: string;
  /** Shown in the report instead of the folder (a hub id). */
  modelName?: string;
  /** A PEFT adapter folder, or a fully fine-tuned model folder; absent: the base alone. */
  adapterDir?: string;
  datasetDir: string;
  /** Masked spans (default 30). */
  spans?: number;
  seed?: number;
  /** Validation tokens read at most (default 16384). */
  evalTokens?: number;
  /** Window length for the loss (default: 256 or the model's context). */
  seqLen?: number;
  /** Samples kept for the side-by-side view (default 8). */
  samples?: number;
  threads?: number;
  onProgress?: (message: string) => void;
  onWarning?: (message: string) => void;
}

/** Answers are never cut by time here: the figures must not depend on the machine's speed. */
const NO_TIME_LIMIT_MS = 10 * 60_000;

export async function evaluate(o: EvalOptions): Promise<EvalReport> {
  const started = performance.now();
  const progress = o.onProgress ?? (() => {});
  const warn = o.onWarning ?? (() => {});
  const seed = o.seed ?? 0;
  const datasetDir = resolve(o.datasetDir);
  const { manifest, validation } = readDataset(datasetDir);
  checkTokenizer(manifest, datasetDir, o.modelDir);
  const heldOut = manifest.heldOut?.files;
  if (manifest.tokens.validation < 2 && !heldOut?.length)
    throw new OptionError(
      ['valFraction'],
      `${datasetDir}: the validation split is empty (${manifest.files.validation} held-out files), so there is nothing to evaluate on; rebuild the dataset with valFraction 0.1 or more files`,
    );

  const base = loadModel(o.modelDir);
  const tokenizer = await loadTokenizer(o.modelDir);
  const tuned = o.adapterDir ? loadTuned(o.adapterDir) : undefined;
  try {
    const context = base.family.contextLength(base.config);
    const seqLen = Math.min(o.seqLen ?? 256, context);

    const spans = benchmarkSpans(manifest, datasetDir, { count: o.spans ?? 30, seed, onWarning: warn });

    const measure = async (
      label: string,
      model: LoadedModel,
      adapter: Adapter | undefined,
    ): Promise<{ figures: ModelFigures; results: SpanResult[] }> => {
      progress(`${label}: validation loss`);
      const loss = await validationLoss(model, validation, {
        adapter,
        seqLen,
        maxTokens: o.evalTokens ?? 16384,
        threads: o.threads,
      });
      let results: SpanResult[] = [];
      if (spans.length) {
        const decoder = await Decoder.fromModel(model, { adapter, threads: o.threads });
        const completer = new Completer(decoder, tokenizer, { timeBudgetMs: NO_TIME_LIMIT_MS });
        await completer.warmUp();
        results = await runBenchmark(
          spans,
          async (span) => {
            const c = await completer.complete(spanRequest(span));
            return { text: c.text, latencyMs: c.latencyMs };
          },
          (done, total) => progress(`${label}: completion ${done}/${total}`),
        );
      }
      return {
        figures: {
          validationLoss: loss?.loss ?? null,
          perplexity: loss?.perplexity ?? null,
          validationTokens: loss?.tokens ?? 0,
          completion: results.length ? summarize(results) : null,
        },
        results,
      };
    };

    const b = await measure('base', base, undefined);
    const t = tuned ? await measure('tuned', tuned.model ?? base, tuned.adapter) : undefined;
    return {
      version: 1,
      createdAt: new Date().toISOString(),
      model: o.modelName ?? resolve(o.modelDir),
      adapter: o.adapterDir ? resolve(o.adapterDir) : null,
      dataset: {
        dir: datasetDir,
        name: manifest.name,
        heldOutFiles: heldOut?.length ?? manifest.files.validation,
        validationTokens: manifest.tokens.validation,
      },
      seed,
      base: b.figures,
      tuned: t?.figures ?? null,
      samples: pickSamples(b.results, t?.results, o.samples ?? 8),
      dataSummary: dataSummary(manifest),
      seconds: (performance.now() - started) / 1000,
    };
  } finally {
    base.weights.close();
    tuned?.model?.weights.close();
  }
}

/**
 * The completion benchmark's spans: masked in the dataset's held-out files only (the manifest's
 * `heldOut` list), read again and scrubbed as the build did. None when the manifest predates the list.
 */
export function benchmarkSpans(
  manifest: DatasetManifest,
  datasetDir: string,
  o: { count: number; seed: number; onWarning?: (message: string) => void },
): MaskedSpan[] {
  const warn = o.onWarning ?? (() => {});
  const heldOut = manifest.heldOut?.files;
  if (!heldOut) {
    warn(
      `${datasetDir}: the manifest does not list its held-out files (built by an older LocalTune); rebuild the dataset to run the completion benchmark`,
    );
    return [];
  }
  // A dataset of records only (chat, prompt/completion) has no file to mask: chat is judged apart.
  if (heldOut.length === 0 && manifest.heldOut?.records?.length) return [];
  const spans = maskSpans(readHeldOut(heldOut, warn), { count: o.count, seed: o.seed });
  if (spans.length === 0)
    warn(`${datasetDir}: the held-out files offer no span to mask; the completion benchmark is skipped`);
  return spans;
}

/** A dataset tokenized for another vocabulary would be scored as noise: refuse it. */
function checkTokenizer(m: DatasetManifest, datasetDir: string, modelDir: string): void {
  const file = join(modelDir, 'tokenizer.json');
  if (!existsSync(file)) throw new UserError(`${file}: missing; evaluation needs the model's tokenizer.json`);
  const sha = createHash('sha256').update(readFileSync(file)).digest('hex');
  if (sha !== m.tokenizer?.tokenizerSha256)
    throw new OptionError(
      ['modelDir'],
      `${datasetDir}: built for another tokenizer (that of ${m.tokenizer?.modelPath ?? 'an unknown model'}); rebuild the dataset (dataset build) for this model with modelDir ${modelDir}`,
    );
}

/** `dir` is a PEFT adapter (adapter_config.json) or a fully fine-tuned model folder. */
export function loadTuned(dir: string): { adapter?: Adapter; model?: LoadedModel } {
  if (existsSync(join(dir, 'adapter_config.json'))) return { adapter: loadAdapter(dir) };
  if (existsSync(join(dir, 'config.json'))) return { model: loadModel(dir) };
  throw new UserError(
    `${dir}: neither a PEFT adapter (adapter_config.json) nor a model folder (config.json); pass a run's adapter folder`,
  );
}

/** The held-out files' text as the dataset saw it (secrets scrubbed); missing ones are skipped. */
function readHeldOut(
  files: { id: string; path: string }[],
  warn: (message: string) => void,
): { id: string; text: string }[] {
  const out: { id: string; text: string }[] = [];
  for (const f of files) {
    let bytes: Buffer;
    try {
      bytes = readFileSync(f.path);
    } catch {
      warn(`${f.path}: held-out file no longer readable; skipped`);
      continue;
    }
    const r = processFile(f.path, 'text', bytes, { chat: null, scrub: true });
    if ('docs' in r) for (const d of r.docs) out.push({ id: f.id, text: sampleText(d.sample) });
  }
  return out;
}

/** A few spans for the side-by-side view: those where the models differ first, spread over the kinds. */
function pickSamples(base: SpanResult[], tuned: SpanResult[] | undefined, count: number): EvalSample[] {
  const rows = base.map((b, i) => ({ b, t: tuned?.[i] }));
  const differs = (r: (typeof rows)[number]) => r.t !== undefined && r.t.answer.text !== r.b.answer.text;
  const ordered = [...rows.filter(differs), ...rows.filter((r) => !differs(r))];
  const picked: typeof rows = [];
  for (let round = 0; picked.length < count && round < count; round++)
    for (const kind of SPAN_KINDS) {
      const next = ordered.filter((r) => r.b.span.kind === kind && !picked.includes(r))[0];
      if (next && picked.length < count) picked.push(next);
    }
  picked.sort((x, y) => rows.indexOf(x) - rows.indexOf(y));
  return picked.map(({ b, t }) => ({
    file: b.span.file,
    line: b.span.line,
    kind: b.span.kind,
    before: lastLines(b.span.prefix, 4),
    expected: b.span.expected,
    after: firstLines(b.span.suffix, 2),
    base: b.answer.text,
    tuned: t ? t.answer.text : null,
    baseExact: b.exact,
    tunedExact: t ? t.exact : null,
  }));
}

function lastLines(text: string, n: number): string {
  const lines = text.split('\n');
  return lines.slice(Math.max(0, lines.length - n)).join('\n');
}

function firstLines(text: string, n: number): string {
  return text.split('\n').slice(0, n).join('\n');
}

/** The dataset in a sentence for the model card: sources, files and tokens, dedup, scrubbing. */
export function dataSummary(m: DatasetManifest): string {
  const sources = m.sources.map((s) => basename(s.path)).join(', ');
  const secrets = Object.values(m.scrub.findings).reduce((a, n) => a + (n ?? 0), 0);
  return (
    `Dataset "${m.name}" from ${sources}: ${m.files.train} training files (${m.tokens.train} tokens) and ` +
    `${m.files.validation} held-out files (${m.tokens.validation} tokens), split by ${m.split.method}; ` +
    `${m.dedup.exactDuplicates + m.dedup.nearDuplicates} duplicate documents removed; ` +
    `${secrets} secrets in ${m.scrub.filesWithFindings} files replaced with placeholders before training.`
  );
}
