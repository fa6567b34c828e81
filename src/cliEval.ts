/** `localtune eval`: validation loss, perplexity and held-out completion accuracy, base vs tuned. */
import { join } from 'node:path';
import { UserError } from './engine/errors';
import { evaluate } from './eval/evaluate';
import { EVAL_FILE, figureRows, writeEvalReport } from './eval/report';
import { resolveModelForCli } from './engine/hub/hubProgress';
import { numberFlag, parseFlags, type CliIo } from './cliArgs';

const HELP = `localtune eval --model DIR|ID [--adapter DIR] --data DATASET [options]
  Measures the base model and (with --adapter) the tuned one on the dataset's held-out data:
  validation loss and perplexity, and a completion benchmark on spans masked in the held-out files
  (never training files), asked as the editor asks, scored by exact match, edit similarity,
  characters a user would accept, and latency.
  --adapter DIR        a run's adapter folder (or a fully fine-tuned model folder)
  --spans N            masked spans (default 30)
  --seed N             picks the spans (default 0); the same seed gives the same figures
  --eval-tokens N      validation tokens for the loss (default 16384)
  --out FILE           where the report goes (default: <adapter>/eval.json, which export puts in the model card)
  --json               print the report as one JSON line`;

export async function runEvalCommand(argv: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseFlags(argv, {
    model: { type: 'string' },
    adapter: { type: 'string' },
    data: { type: 'string' },
    spans: { type: 'string' },
    seed: { type: 'string' },
    'eval-tokens': { type: 'string' },
    threads: { type: 'string' },
    out: { type: 'string' },
    json: { type: 'boolean' },
    help: { type: 'boolean' },
  });
  if (values.help) {
    io.out(HELP);
    return 0;
  }
  if (!values.model) throw new UserError('eval needs --model DIR (the base model folder or hub id)');
  const data = values.data ?? positionals[0];
  if (!data) throw new UserError('eval needs --data DATASET (a folder built with `localtune dataset build`)');
  const modelDir = await resolveModelForCli(values.model, io.err);
  const report = await evaluate({
    modelDir,
    modelName: modelDir === values.model ? undefined : values.model,
    adapterDir: values.adapter,
    datasetDir: data,
    spans: values.spans === undefined ? undefined : numberFlag(values.spans, 'spans', 30),
    seed: numberFlag(values.seed, 'seed', 0),
    evalTokens:
      values['eval-tokens'] === undefined ? undefined : numberFlag(values['eval-tokens'], 'eval-tokens', 0),
    threads: values.threads ? numberFlag(values.threads, 'threads', 1) : undefined,
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
  io.out(
    `on ${report.dataset.heldOutFiles} held-out files of ${report.dataset.name}, seed ${report.seed}, in ${report.seconds.toFixed(1)} s` +
      (out ? `; report in ${out}` : ''),
  );
  return 0;
}
