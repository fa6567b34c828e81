/**
 * A run's evaluation as the editor finds it: what the run is evaluated with (its base model, its
 * final adapter or newest checkpoint, its dataset) and the report beside that adapter. No vscode:
 * the Evaluate commands and the dashboard both read it.
 */
import { existsSync } from 'node:fs';
import { isDatasetDir } from '../data/datasetFiles';
import { readEvalReport, type EvalReport } from '../eval/report';
import { summarizeRun } from './runs';

/** What a run is evaluated with: its base model, its final adapter (or newest checkpoint), its dataset. */
export function evaluationTarget(
  runDir: string,
  /** One of the run's weights (runWeights) instead of the final ones. */
  weightsDir?: string,
): { modelDir: string; adapterDir: string; datasetDir?: string } | string {
  const r = summarizeRun(runDir);
  const spec = r.record?.spec;
  if (!spec)
    return 'this run has no run.json (it was not started from the editor); use `localtune eval` instead.';
  const adapterDir =
    weightsDir ??
    (r.record?.finalDir && existsSync(r.record.finalDir) ? r.record.finalDir : r.checkpoints.at(-1)?.dir);
  if (!adapterDir) return 'this run has no adapter or checkpoint yet.';
  const datasetDir = spec.data.find(isDatasetDir);
  return { modelDir: spec.modelDir, adapterDir, datasetDir };
}

/** The run's evaluation report, when it has one (eval.json beside its adapter). */
export function runEvaluation(runDir: string): EvalReport | null {
  const target = evaluationTarget(runDir);
  return typeof target === 'string' ? null : readEvalReport(target.adapterDir);
}

/** What the end-of-run evaluation says about a tuned model, in the words the views show. */
export type Verdict = 'better' | 'no better' | 'worse';

/** Validation loss changes smaller than this share of the base's are noise: "no better". */
const VERDICT_TOLERANCE = 0.01;

/**
 * Tuned against base on held-out data: the validation loss decides (lower is better), within a 1%
 * tolerance; without a loss (too little held-out data) the completion exact match decides. Null when
 * the report has no tuned figures.
 */
export function verdictOf(report: EvalReport): Verdict | null {
  const tuned = report.tuned;
  if (!tuned) return null;
  const b = report.base.validationLoss;
  const t = tuned.validationLoss;
  if (b !== null && t !== null) {
    const change = (t - b) / Math.abs(b || 1);
    return change <= -VERDICT_TOLERANCE ? 'better' : change >= VERDICT_TOLERANCE ? 'worse' : 'no better';
  }
  const be = report.base.completion?.exactMatch;
  const te = tuned.completion?.exactMatch;
  if (be === undefined || te === undefined) return null;
  return te > be ? 'better' : te < be ? 'worse' : 'no better';
}

/** The verdict as the Runs tree and the dashboard say it. */
export function verdictLabel(v: Verdict): string {
  return v === 'worse' ? 'worse: not recommended' : v;
}

/** The run's verdict, when it has been evaluated. */
export function runVerdict(runDir: string): Verdict | null {
  const report = runEvaluation(runDir);
  return report ? verdictOf(report) : null;
}
