/**
 * `localtune dataset build|show`: builds a dataset folder from workspace folders and files, and
 * shows a built one (stats and a few decoded samples). Routed here by main.ts.
 */
import { readFileSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { buildDataset } from '../data/build';
import type { ScrubAllow } from '../data/scrub';
import { SPLIT_METHODS, type SplitMethod } from '../data/split';
import { UserError } from '../engine/errors';
import { datasetSummaryLines, previewLines } from '../jobs/datasetPreview';
import { previewDataset } from '../jobs/datasetSamples';
import type { CliIo, CommandArgs } from './command';
import {
  command,
  numberFlag,
  oneLineErrors,
  required,
  resolveModel,
  stringFlags,
  withOutputFolder,
} from './command';

const USAGE = `Usage:
  localtune dataset build --from DIR|FILE... --model DIR --out DIR
      [--fim-rate 0.5] [--spm-rate 0.5] [--split file|folder|recency] [--val-fraction 0.1] [--seed 0]
      [--include GLOB]... [--exclude GLOB]... [--max-file-kb 1024] [--near-threshold 0.85]
      [--scrub-allow FILE] [--prompt-column NAME --response-column NAME [--system-column NAME]] [--json]
  localtune dataset show DIR [--samples 3] [--model DIR] [--json]

Globs use .gitignore syntax. --scrub-allow takes a JSON file {"path/in/report": [{"kind": "email", "line": 3}]}
marking findings of scrub-report.json as false positives. CSV/TSV files (one conversation per row) take
their columns by name with --prompt-column, --response-column and --system-column; without them the
header's usual names are used (prompt/question/input..., response/answer/output..., system).`;

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
  ...stringFlags('prompt-column response-column system-column'),
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
  // A record of a file named in --from that cannot be read is an error (`file:line: reason`), as in
  // train; in a scanned folder it is skipped and counted (the manifest lists it).
  const named = new Set(
    values.from.filter((f) => statSync(f, { throwIfNoEntry: false })?.isFile()).map((f) => resolve(f)),
  );
  const warn = (message: string) => {
    const at = /^(.+):\d+: /.exec(message);
    if (at && named.has(resolve(at[1]))) throw new UserError(message);
    if (json) io.out(JSON.stringify({ type: 'warning', message }));
    else io.err(`warning: ${message}`);
  };
  const sources = values.from;
  const result = await withOutputFolder(out, 'localtune dataset build', () =>
    buildDataset({
      sources,
      modelDir,
      outDir: out,
      fimRate: numberFlag(values['fim-rate'], 'fim-rate', 0.5, false),
      spmRate: numberFlag(values['spm-rate'], 'spm-rate', 0.5, false),
      split: split as SplitMethod,
      valFraction: numberFlag(values['val-fraction'], 'val-fraction', 0.1, false),
      seed: numberFlag(values.seed, 'seed', 0),
      include: values.include,
      exclude: values.exclude,
      maxFileBytes: numberFlag(values['max-file-kb'], 'max-file-kb', 1024, true, { min: 1 }) * 1024,
      nearThreshold: numberFlag(values['near-threshold'], 'near-threshold', 0.85, false, {
        above: 0,
        max: 1,
      }),
      scrubAllow: values['scrub-allow'] ? readScrubAllow(values['scrub-allow']) : undefined,
      csvColumns: {
        prompt: values['prompt-column'],
        response: values['response-column'],
        system: values['system-column'],
      },
      onWarning: warn,
    }),
  );
  if (json) {
    const { manifest, outDir, filesRead, documentsTokenized } = result;
    io.out(JSON.stringify({ type: 'dataset', outDir, filesRead, documentsTokenized, manifest }));
  } else {
    for (const line of datasetSummaryLines(result.manifest)) io.out(line);
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
  const preview = await previewDataset(
    positionals[0],
    numberFlag(values.samples, 'samples', 3),
    values.model,
  );
  if (values.json) {
    io.out(JSON.stringify({ type: 'dataset', manifest: preview.manifest, samples: preview.samples }));
    return 0;
  }
  for (const line of previewLines(preview)) io.out(line);
  return 0;
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
