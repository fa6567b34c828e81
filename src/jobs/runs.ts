/**
 * Run folders as the editor sees them: `<workspace>/.localtune/runs/<id>/` with the trainer's
 * metrics.jsonl and checkpoints, plus `run.json` — what was asked (the TrainSpec, so a run can be
 * resumed from any window) and how it ended. A run recorded as running whose worker is gone was
 * interrupted (window closed, machine off): it reads as stopped, and resumable from its checkpoint.
 */
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { listCheckpoints } from '../engine/train/checkpoint';
import type { TrainEvent } from '../engine/train/events';
import type { ErrorCause } from './protocol';
import type { TrainSpec } from './trainSpec';

export const RUN_FILE = 'run.json';
export const METRICS_FILE = 'metrics.jsonl';
export type RunStatus = 'running' | 'stopped' | 'finished' | 'failed';

export interface RunRecord {
  version: 1;
  title: string;
  spec: TrainSpec;
  createdAt: string;
  updatedAt: string;
  status: RunStatus;
  /** The worker's process id while it runs. */
  pid?: number;
  error?: { cause: ErrorCause | 'crash' | 'killed'; message: string };
  /** Where the final adapter (LoRA) or model (full) was written. */
  finalDir?: string;
  /** Whose parameters finalDir holds: the best evaluation's (at `bestStep`) or the last step's. */
  finalIs?: 'best' | 'last';
  bestStep?: number | null;
  /** A run trained elsewhere and imported (`localtune job import`): from where, by which engine. */
  importedFrom?: { dir: string; engine: string | null };
}

export interface RunSummary {
  runDir: string;
  id: string;
  record: RunRecord | null;
  status: RunStatus;
  step: number;
  totalSteps: number | null;
  lastLoss: number | null;
  bestEvalLoss: number | null;
  /** Complete checkpoints, oldest first. */
  checkpoints: { dir: string; step: number }[];
  resumable: boolean;
}

export function runsRoot(workspace: string): string {
  return join(workspace, '.localtune', 'runs');
}

export function newRunId(now = new Date()): string {
  return now.toISOString().replace(/[:.]/g, '-');
}

export function readRunRecord(runDir: string): RunRecord | null {
  try {
    const r = JSON.parse(readFileSync(join(runDir, RUN_FILE), 'utf8')) as RunRecord;
    return r?.version === 1 ? r : null;
  } catch {
    return null;
  }
}

/** Writes run.json atomically, merging `patch` into what is there. */
export function writeRunRecord(
  runDir: string,
  patch: Partial<RunRecord> & (Pick<RunRecord, 'spec' | 'title'> | object),
): RunRecord {
  mkdirSync(runDir, { recursive: true });
  const now = new Date().toISOString();
  const before = readRunRecord(runDir);
  const record = {
    version: 1,
    createdAt: now,
    status: 'running',
    ...before,
    ...patch,
    updatedAt: now,
  } as RunRecord;
  if (record.status !== 'running') delete record.pid;
  if (record.status !== 'failed') delete record.error;
  const tmp = join(runDir, `${RUN_FILE}.tmp-${process.pid}`);
  writeFileSync(tmp, JSON.stringify(record, null, 2) + '\n');
  renameSync(tmp, join(runDir, RUN_FILE));
  return record;
}

export function isProcessAlive(pid: number | undefined): boolean {
  if (!pid) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The metrics lines of a run (step and eval events), skipping any torn last line. */
export function readMetrics(runDir: string): TrainEvent[] {
  let text: string;
  try {
    text = readFileSync(join(runDir, METRICS_FILE), 'utf8');
  } catch {
    return [];
  }
  const out: TrainEvent[] = [];
  for (const line of text.split('\n')) {
    if (!line) continue;
    try {
      out.push(JSON.parse(line) as TrainEvent);
    } catch {
      // a line being written right now
    }
  }
  return out;
}

export function summarizeRun(runDir: string): RunSummary {
  const record = readRunRecord(runDir);
  let step = 0;
  let totalSteps: number | null = null;
  let lastLoss: number | null = null;
  let bestEvalLoss: number | null = null;
  for (const e of readMetrics(runDir)) {
    if (e.type === 'step') {
      step = e.step;
      totalSteps = e.totalSteps;
      lastLoss = e.loss;
    } else if (e.type === 'eval')
      bestEvalLoss = bestEvalLoss === null ? e.evalLoss : Math.min(bestEvalLoss, e.evalLoss);
  }
  const checkpoints = listCheckpoints(runDir).map((dir) => ({
    dir,
    step: Number(/step-(\d+)$/.exec(dir)?.[1] ?? 0),
  }));
  let status: RunStatus = record?.status ?? (checkpoints.length ? 'stopped' : 'failed');
  // Recorded as running, but its worker is gone: interrupted.
  if (status === 'running' && !isProcessAlive(record?.pid))
    status = checkpoints.length ? 'stopped' : 'failed';
  const finished = status === 'finished';
  return {
    runDir,
    id: runDir.split(/[\\/]/).pop() ?? runDir,
    record,
    status,
    step,
    totalSteps,
    lastLoss,
    bestEvalLoss,
    checkpoints,
    // A run that failed on its input (a wrong dataset, a bad option) fails again the same way.
    resumable:
      !finished &&
      status !== 'running' &&
      checkpoints.length > 0 &&
      record !== null &&
      !(status === 'failed' && (record.error?.cause === 'user' || record.error?.cause === 'protocol')),
  };
}

/** Every run folder under the workspace, newest first. */
export function listRuns(workspace: string): RunSummary[] {
  const root = runsRoot(workspace);
  if (!existsSync(root)) return [];
  return readdirSync(root)
    .map((name) => join(root, name))
    .filter((dir) => {
      try {
        return statSync(dir).isDirectory();
      } catch {
        return false;
      }
    })
    .sort()
    .reverse()
    .map(summarizeRun);
}

/** One set of trained parameters of a run a user can pick: the final (best or last), the kept best, a checkpoint. */
export interface RunWeights {
  kind: 'final' | 'best' | 'step';
  dir: string;
  step: number | null;
  /** The validation loss measured at that step, when there was an evaluation then. */
  evalLoss: number | null;
}

/**
 * What can be evaluated, exported or served from a run, final first: `finalDir` (the best or the
 * last step's), `<run>/best/` while the run has not finished, then each checkpoint, newest first.
 */
export function runWeights(runDir: string): RunWeights[] {
  const r = summarizeRun(runDir);
  const evalAt = new Map<number, number>();
  for (const e of readMetrics(runDir)) if (e.type === 'eval') evalAt.set(e.step, e.evalLoss);
  const lossAt = (step: number | null) => (step === null ? null : (evalAt.get(step) ?? null));
  const out: RunWeights[] = [];
  const finalDir = r.record?.finalDir;
  if (finalDir && existsSync(finalDir)) {
    const step = r.record?.finalIs === 'best' ? (r.record.bestStep ?? null) : r.step;
    out.push({ kind: 'final', dir: finalDir, step, evalLoss: lossAt(step) });
  } else if (existsSync(join(runDir, 'best', 'best.json'))) {
    try {
      const best = JSON.parse(readFileSync(join(runDir, 'best', 'best.json'), 'utf8')) as { step?: number };
      const step = typeof best.step === 'number' ? best.step : null;
      out.push({ kind: 'best', dir: join(runDir, 'best'), step, evalLoss: lossAt(step) });
    } catch {
      // torn best.json: the checkpoints still list
    }
  }
  for (const c of [...r.checkpoints].reverse())
    out.push({ kind: 'step', dir: c.dir, step: c.step, evalLoss: lossAt(c.step) });
  return out;
}
