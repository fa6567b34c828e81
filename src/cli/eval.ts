/** `localtune eval`: validation loss, perplexity and held-out completion accuracy, base vs tuned. */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { loadModel } from '../engine/models';
import { loadAdapterFor } from '../engine/train/adapterFit';
import { EVAL_FILE, figureRows, writeEvalReport, type EvalReport } from '../eval/report';
import { evaluateDataset } from '../jobs/datasetEvaluation';
import type { CliIo, CommandArgs } from './command';
import {
  checkModel,
  command,
  numberFlag,
  optionalNumberFlag,
  required,
  resolveModel,
  stringFlags,
} from './command';

const HELP = `localtune eval --model DIR|ID [--adapter DIR] --data DATASET [options]
  Measures the base model and (with --adapter) the tuned one on the dataset's held-out data:
  validation loss and perplexity, and a completion benchmark on spans masked in the held-out files
  (never training files), asked as the editor asks, scored by exact match, edit similarity,
  characters a user would accept, and latency. On a chat dataset (held-out conversations, a model
  with a chat template): the conversations' loss, and both models' replies to held-out prompts
  beside the reply each conversation had.
  --adapter DIR        a run's adapter folder (or a fully fine-tuned model folder)
  --spans N            masked spans (default 30)
  --seed N             picks the spans (default 0); the same seed gives the same figures
  --eval-tokens N      validation tokens for the loss (default 16384)
  --samples N          side-by-side samples kept: masked spans, held-out prompts answered (default 8)
  --reply-tokens N     new tokens per reply at most (default 64)
  --out FILE           where the report goes (default: <adapter>/eval.json, which export puts in the model card)
  --json               print the report as one JSON line`;

const EVAL_FLAGS = stringFlags('model adapter data spans seed eval-tokens samples reply-tokens threads out');

export const runEvalCommand = command(
  {
    help: HELP,
    flags: EVAL_FLAGS,
    // valFraction is `localtune dataset build`'s: errors about the dataset say how to rebuild it.
    optionFlags: { modelName: '--model', datasetDir: '--data', valFraction: '--val-fraction' },
  },
  evalCommand,
);

/** A PEFT adapter (not a fully fine-tuned model folder) is checked against the base before any work. */
function checkAdapterFolder(modelDir: string, adapterDir: string): void {
  if (!existsSync(join(adapterDir, 'adapter_config.json'))) return;
  const model = loadModel(modelDir);
  try {
    loadAdapterFor(model, adapterDir);
  } finally {
    model.weights.close();
  }
}

async function evalCommand({ values, positionals }: CommandArgs<typeof EVAL_FLAGS>, io: CliIo) {
  const modelArg = required(values.model, 'eval needs --model DIR (the base model folder or hub id)');
  const data = required(
    values.data ?? positionals[0],
    'eval needs --data DATASET (a folder built with `localtune dataset build`)',
  );
  const { modelDir, hubId } = await resolveModel(modelArg, io);
  checkModel(modelDir);
  if (values.adapter) checkAdapterFolder(modelDir, values.adapter);
  const report = await evaluateDataset({
    modelDir,
    modelName: hubId,
    adapterDir: values.adapter,
    datasetDir: data,
    spans: optionalNumberFlag(values.spans, 'spans'),
    seed: numberFlag(values.seed, 'seed', 0),
    evalTokens: optionalNumberFlag(values['eval-tokens'], 'eval-tokens', true, { min: 1 }),
    samples: optionalNumberFlag(values.samples, 'samples', true, { min: 0 }),
    replyTokens: optionalNumberFlag(values['reply-tokens'], 'reply-tokens', true, { min: 1 }),
    threads: optionalNumberFlag(values.threads, 'threads', true, { min: 1 }),
    onProgress: values.json ? undefined : (m) => io.err(m),
    onWarning: (w) => io.err(`warning: ${w}`),
  });
  const out = values.out ?? (values.adapter ? join(values.adapter, EVAL_FILE) : undefined);
  if (out) writeEvalReport(out, report);
  if (values.json) {
    io.out(JSON.stringify(report));
    return 0;
  }
  const rows = figureRows(report);
  const width = Math.max(...rows.map((r) => r.label.length));
  const col = Math.max(12, ...rows.map((r) => r.base.length + 2));
  io.out(`${''.padEnd(width)}  ${'base'.padEnd(col)}${report.tuned ? 'tuned' : ''}`);
  for (const r of rows) io.out(`${r.label.padEnd(width)}  ${r.base.padEnd(col)}${r.tuned ?? ''}`);
  for (const line of chatSampleLines(report)) io.out(line);
  const files = `${report.dataset.heldOutFiles} held-out files of ${report.dataset.name}`;
  // A dataset of conversations only holds out no file: its conversations are what it is judged on.
  const heldOut = !report.chat
    ? files
    : report.dataset.heldOutFiles
      ? `${files} and ${report.chat.source}`
      : report.chat.source;
  io.out(
    `on ${heldOut}, seed ${report.seed}, in ${report.seconds.toFixed(1)} s` +
      (out ? `; report in ${out}` : ''),
  );
  return 0;
}

/** The held-out prompts with the reply each conversation had and both models' replies. */
function chatSampleLines(report: EvalReport): string[] {
  const oneLine = (text: string) => JSON.stringify(text);
  return (report.chat?.samples ?? []).flatMap((s) => [
    '',
    `${s.where ?? 'held-out prompt'}: ${oneLine(s.prompt)}`,
    `  expected: ${oneLine(s.expected)}`,
    `  base:     ${oneLine(s.base)}`,
    ...(s.tuned === null ? [] : [`  tuned:    ${oneLine(s.tuned)}`]),
  ]);
}
