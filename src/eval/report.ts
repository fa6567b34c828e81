/**
 * What an evaluation found, as plain data: the CLI's `--json` line, the worker's `eval-done`
 * message, `eval.json` beside the adapter (which `localtune export --adapter` puts in the model
 * card), and what the dashboard's evaluation section and samples view draw.
 */
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cardEvaluation, type EvalReport } from './figures';

export * from './figures';

export const EVAL_FILE = 'eval.json';

export function writeEvalReport(path: string, report: EvalReport): void {
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, JSON.stringify(report, null, 2) + '\n');
  renameSync(tmp, path);
}

/** The report in `dir/eval.json` (an adapter folder), or null when there is none or it is unreadable. */
export function readEvalReport(dir: string): EvalReport | null {
  const path = join(dir, EVAL_FILE);
  if (!existsSync(path)) return null;
  try {
    const r = JSON.parse(readFileSync(path, 'utf8')) as EvalReport;
    return r?.version === 1 && r.base ? r : null;
  } catch {
    return null;
  }
}

/** What an adapter's eval.json adds to its model card: the figures and the data summary ({} without one). */
export function evalCardInfo(adapterDir: string | undefined): {
  trainingData?: string;
  evaluation?: Record<string, string>;
} {
  const r = adapterDir ? readEvalReport(adapterDir) : null;
  return r ? { trainingData: r.dataSummary, evaluation: cardEvaluation(r) } : {};
}
