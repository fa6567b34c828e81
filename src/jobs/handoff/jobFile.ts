/**
 * `localtune-job.json`: what LocalTune wrote into a hand-off folder and needs back when the result
 * comes home — the base model and dataset folders on this machine (the engine sees only copies),
 * the engine, its versions, and the plan the config was written from.
 */
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { UserError } from '../../engine/errors';
import type { Engine } from './versions';
import type { HandoffPlan } from './plan';

export const JOB_FILE = 'localtune-job.json';
/** Where the written config tells the engine to save (relative to the job folder). */
export const ENGINE_OUTPUT_DIR = 'output';

export interface JobFile {
  format: 'localtune-handoff';
  version: 1;
  engine: Engine;
  createdAt: string;
  /** The base model folder on this machine (the import checks the adapter against it). */
  modelDir: string;
  /** The dataset folder on this machine (the imported run evaluates on its held-out files); null for plain files. */
  datasetDir: string | null;
  versions: Record<string, string>;
  plan: HandoffPlan;
  /** Token ids of documents re-encoded from the exported text that came back identical, per split. */
  roundTrip: { documents: number; identical: number };
}

export function writeJobFile(dir: string, job: JobFile): void {
  const tmp = join(dir, `${JOB_FILE}.tmp-${process.pid}`);
  writeFileSync(tmp, JSON.stringify(job, null, 2) + '\n');
  renameSync(tmp, join(dir, JOB_FILE));
}

export function readJobFile(dir: string): JobFile {
  const path = join(dir, JOB_FILE);
  let job: JobFile;
  try {
    job = JSON.parse(readFileSync(path, 'utf8')) as JobFile;
  } catch (err) {
    throw new UserError(
      `${path}: missing or not JSON (${(err as Error).message.split('\n')[0]}); give the folder \`localtune job export\` wrote`,
    );
  }
  if (job?.format !== 'localtune-handoff' || job.version !== 1)
    throw new UserError(`${path}: not a LocalTune hand-off job file (version 1)`);
  return job;
}
