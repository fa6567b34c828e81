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
): { modelDir: string; adapterDir: string; datasetDir?: string } | string {
  const r = summarizeRun(runDir);
  const spec = r.record?.spec;
  if (!spec)
    return 'this run has no run.json (it was not started from the editor); use `localtune eval` instead.';
  const adapterDir =
    r.record?.finalDir && existsSync(r.record.finalDir) ? r.record.finalDir : r.checkpoints.at(-1)?.dir;
  if (!adapterDir) return 'this run has no adapter or checkpoint yet.';
  const datasetDir = spec.data.find(isDatasetDir);
  return { modelDir: spec.modelDir, adapterDir, datasetDir };
}

/** The run's evaluation report, when it has one (eval.json beside its adapter). */
export function runEvaluation(runDir: string): EvalReport | null {
  const target = evaluationTarget(runDir);
  return typeof target === 'string' ? null : readEvalReport(target.adapterDir);
}
