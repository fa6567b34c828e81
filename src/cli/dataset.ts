/**
 * `localtune dataset build|show`: builds a dataset folder from workspace folders and files, and
 * shows a built one (stats and a few decoded samples). Routed here by main.ts.
 */
import { existsSync, readFileSync } from 'node:fs';
import { buildDataset } from '../data/build';
import { readDataset, type TokenStream } from '../data/datasetFiles';
import type { DatasetManifest } from '../data/manifest';
import type { ScrubAllow } from '../data/scrub';
import { SPLIT_METHODS, type SplitMethod } from '../data/split';
import { UserError } from '../engine/errors';
import { loadTokenizer } from '../engine/tokenizer/tokenizer';
import type { CliIo, CommandArgs } from './command';
import { command, numberFlag, oneLineErrors, required, resolveModel, stringFlags } from './command';

const USAGE = `Usage:
  localtune dataset build --from DIR|FILE... --model DIR --out DIR
      [--fim-rate 0.5] [--spm-rate 0.5] [--split file|folder|recency] [--val-fraction 0.1] [--seed 0]
      [--include GLOB]... [--exclude GLOB]... [--max-file-kb 1024] [--near-threshold 0.85]
      [--scrub-allow FILE] [--json]
  localtune dataset show DIR [--samples 3] [--model DIR] [--json]

Globs use .gitignore syntax. --scrub-allow takes a JSON file {"path/in/report": [{"kind": "email", "line": 3}]}
marking findings of scrub-report.json as false positives.`;

export async function runDatasetCommand(argv: string[], io: CliIo): Promise<number> {
  const [sub, ...rest] = argv;
  return oneLineErrors(io, 'error: ', async () => {
    if (sub === 'build') return runBuild(rest, io);
    if (sub === 'show') return runShow(rest, io);
    if (sub === '--help' || sub === '-h' || sub === 'help') {
      io.out(USAGE);
      return 0;
    }
    throw new UserError(`unknown dataset command "${sub ?? ''}"; use "dataset build" or "dataset show"`);
  });
}

const BUILD_FLAGS = {
  ...stringFlags('model out fim-rate spm-rate split val-fraction seed'),
  ...stringFlags('max-file-kb near-threshold scrub-allow'),
  from: { type: 'string', multiple: true },
  include: { type: 'string', multiple: true },
  exclude: { type: 'string', multiple: true },
  help: { type: 'boolean', short: 'h' },
} as const;

const runBuild = command(
  {
    help: USAGE,
    flags: BUILD_FLAGS,
    // BuildOptions' names that are not their flag (maxFileBytes is --max-file-kb × 1024).
    optionFlags: { sources: '--from', tokenizer: '--model', maxFileBytes: '--max-file-kb' },
  },
  build,
);

async function build({ values, positionals }: CommandArgs<typeof BUILD_FLAGS>, io: CliIo) {
  if (positionals.length)
    throw new UserError(`unexpected argument "${positionals[0]}"; sources go after --from`);
  if (!values.from?.length)
    throw new UserError('--from is required: a workspace folder, text file or JSONL file');
  const modelArg = required(
    values.model,
    '--model is required: the model folder whose tokenizer the dataset is for',
  );
  const out = required(
    values.out,
    '--out is required: the dataset folder to write (e.g. .localtune/datasets/NAME)',
  );
  const { modelDir } = await resolveModel(modelArg, io);
  const split = values.split ?? 'file';
  if (!SPLIT_METHODS.includes(split as SplitMethod))
    throw new UserError(`--split ${split}: use ${SPLIT_METHODS.map((m) => `"${m}"`).join(', ')}`);

  const json = values.json === true;
  const warn = (message: string) =>
    json ? io.out(JSON.stringify({ type: 'warning', message })) : io.err(`warning: ${message}`);
  const result = await buildDataset({
    sources: values.from,
    modelDir,
    outDir: out,
    fimRate: numberFlag(values['fim-rate'], 'fim-rate', 0.5, false),
    spmRate: numberFlag(values['spm-rate'], 'spm-rate', 0.5, false),
    split: split as SplitMethod,
    valFraction: numberFlag(values['val-fraction'], 'val-fraction', 0.1, false),
    seed: numberFlag(values.seed, 'seed', 0),
    include: values.include,
    exclude: values.exclude,
    maxFileBytes: numberFlag(values['max-file-kb'], 'max-file-kb', 1024) * 1024,
    nearThreshold: numberFlag(values['near-threshold'], 'near-threshold', 0.85, false),
    scrubAllow: values['scrub-allow'] ? readScrubAllow(values['scrub-allow']) : undefined,
    onWarning: warn,
  });
  if (json) {
    const { manifest, outDir, filesRead, documentsTokenized } = result;
    io.out(JSON.stringify({ type: 'dataset', outDir, filesRead, documentsTokenized, manifest }));
  } else {
    for (const line of summary(result.manifest)) io.out(line);
    io.out(
      `wrote ${result.outDir} (read ${result.filesRead} files, tokenized ${result.documentsTokenized} documents)`,
    );
  }
  return 0;
}

const SHOW_FLAGS = stringFlags('samples model');

const runShow = command({ help: USAGE, flags: SHOW_FLAGS }, show);

async function show({ values, positionals }: CommandArgs<typeof SHOW_FLAGS>, io: CliIo) {
  if (positionals.length !== 1) throw new UserError('dataset show takes one dataset folder');
  const { manifest, train } = readDataset(positionals[0]);
  const count = numberFlag(values.samples, 'samples', 3);
  const modelDir = values.model ?? manifest.tokenizer.modelPath;
  const samples =
    count > 0 && existsSync(modelDir) ? await decodeSamples(train, modelDir, manifest, count) : [];
  if (values.json) {
    io.out(JSON.stringify({ type: 'dataset', manifest, samples }));
    return 0;
  }
  for (const line of summary(manifest)) io.out(line);
  if (count > 0 && samples.length === 0)
    io.out(`(no samples: model folder ${modelDir} not found; pass --model)`);
  for (const [i, s] of samples.entries()) {
    io.out(`--- sample ${i + 1}: ${s.tokens} tokens, ${s.lossTokens} with loss`);
    io.out(s.text.length > 400 ? `${s.text.slice(0, 400)}…` : s.text);
  }
  return 0;
}

function summary(m: DatasetManifest): string[] {
  const skipped = Object.entries(m.skipped)
    .sort((a, b) => b[1] - a[1])
    .map(([k, n]) => `${n} ${k}`)
    .join(', ');
  const findings = Object.entries(m.scrub.findings)
    .map(([k, n]) => `${n} ${k}`)
    .join(', ');
  return [
    `dataset ${m.name}: ${m.sources.map((s) => s.path).join(', ')}`,
    `  train:      ${m.documents.train} documents, ${m.files.train} files, ${m.tokens.train} tokens (${m.lossTokens.train} with loss)`,
    `  validation: ${m.documents.validation} documents, ${m.files.validation} files, ${m.tokens.validation} tokens (${m.lossTokens.validation} with loss) — split by ${m.split.method}`,
    `  skipped:    ${skipped || 'nothing'}`,
    `  scrubbed:   ${findings || 'nothing'}${m.scrub.allowed ? ` (${m.scrub.allowed} marked false positives)` : ''}; see ${m.scrub.report}`,
    `  FIM:        ${m.fim.style ? `${m.fim.documents} documents (${m.fim.style} tokens, rate ${m.fim.rate})` : 'none (the model has no FIM tokens)'}`,
  ];
}

async function decodeSamples(train: TokenStream, modelDir: string, manifest: DatasetManifest, count: number) {
  const tokenizer = await loadTokenizer(modelDir);
  const samples: { text: string; tokens: number; lossTokens: number }[] = [];
  let start = 0;
  for (let i = 0; i < train.ids.length && samples.length < count; i++) {
    if (train.ids[i] !== manifest.tokenizer.eosId) continue;
    let loss = 0;
    for (let j = start; j <= i; j++) loss += train.weights[j];
    samples.push({
      text: tokenizer.decode([...train.ids.subarray(start, i)]),
      tokens: i + 1 - start,
      lossTokens: loss,
    });
    start = i + 1;
  }
  return samples;
}

function readScrubAllow(path: string): Record<string, ScrubAllow[]> {
  let value: unknown;
  try {
    value = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new UserError(
      `--scrub-allow ${path}: unreadable or not JSON (${(err as Error).message.split('\n')[0]})`,
    );
  }
  const ok =
    typeof value === 'object' &&
    value !== null &&
    Object.values(value).every(
      (v) => Array.isArray(v) && v.every((a) => typeof a === 'object' && a !== null),
    );
  if (!ok)
    throw new UserError(
      `--scrub-allow ${path}: expected {"file": [{"kind": "...", "line": N}, ...]} as in scrub-report.json`,
    );
  return value as Record<string, ScrubAllow[]>;
}
