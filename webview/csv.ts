/** The dashboard's data as CSV: every point of every run shown, never downsampled. */
import type { RunSeries } from './metrics';

export const CSV_HEADER = [
  'run',
  'step',
  'loss',
  'eval_loss',
  'lr',
  'grad_norm',
  'tokens',
  'tokens_per_sec',
  'elapsed',
];

/**
 * One row per step and run, in step order; a validation loss goes on the row of its step, or on
 * a row of its own when no step row has that step. Empty cells for values not measured.
 */
export function toCsv(runs: RunSeries[]): string {
  const lines = [CSV_HEADER.join(',')];
  for (const r of runs) {
    const name = csvField(r.title);
    let e = 0;
    const evalRow = (k: number) => `${name},${r.evalStep[k]},,${num(r.evalLoss[k])},,,,,`;
    for (let i = 0; i < r.step.length; i++) {
      const step = r.step[i];
      for (; e < r.evalStep.length && r.evalStep[e] < step; e++) lines.push(evalRow(e));
      const evalLoss = e < r.evalStep.length && r.evalStep[e] === step ? num(r.evalLoss[e++]) : '';
      lines.push(
        [
          name,
          step,
          num(r.loss[i]),
          evalLoss,
          num(r.lr[i]),
          num(r.gradNorm[i]),
          r.tokens[i],
          num(r.tokensPerSec[i]),
          num(r.elapsed[i]),
        ].join(','),
      );
    }
    for (; e < r.evalStep.length; e++) lines.push(evalRow(e));
  }
  return lines.join('\n') + '\n';
}

function num(v: number): string {
  return Number.isFinite(v) ? String(v) : '';
}

/** Quotes a field when it holds a comma, quote or line break (RFC 4180). */
export function csvField(s: string): string {
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}
