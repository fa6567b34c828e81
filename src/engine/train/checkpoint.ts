/**
 * Checkpoints: trainable values (a PEFT adapter in LoRA mode, model.safetensors in full mode),
 * AdamW moments, and the trainer state (step, data position). Written to a temporary folder
 * and renamed, so a crash never leaves a half checkpoint; the newest complete one resumes.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { UserError } from '../errors';
import { loadAdapter, saveAdapter } from '../formats/peft';
import { SafetensorsReader, writeSafetensors, type WritableTensor } from '../formats/safetensors';
import type { LoraSettings } from '../formats/peft';
import type { DataPosition } from './windows';

export interface TrainerState {
  step: number;
  position: DataPosition;
  adamSteps: number;
  bestEvalLoss: number | null;
  /** The step of the best evaluation (absent in checkpoints written before early stopping). */
  bestStep?: number | null;
  /** Evaluations since the best one: early stopping ends the run when this reaches the patience. */
  evalsSinceBest?: number;
}

export interface CheckpointData {
  state: TrainerState;
  /** Trainable values by graph input name. */
  values: Map<string, { data: Float32Array; shape: number[] }>;
  m: Float32Array[];
  v: Float32Array[];
}

export interface CheckpointFormat {
  mode: 'lora' | 'full';
  lora: LoraSettings;
  baseModel: string;
  fanInFanOut: boolean;
}

const STEP_DIR = /^step-(\d+)$/;
const TMP_DIR = /^(step-\d+|best)\.tmp-\d+$/;

export function checkpointsDir(runDir: string): string {
  return join(runDir, 'checkpoints');
}

/** Writes `<run>/checkpoints/step-NNNNNN` atomically; keeps the newest `keep` checkpoints. */
export function writeCheckpoint(runDir: string, data: CheckpointData, f: CheckpointFormat, keep = 3): string {
  const root = checkpointsDir(runDir);
  mkdirSync(root, { recursive: true });
  const name = `step-${String(data.state.step).padStart(6, '0')}`;
  const tmp = join(root, `${name}.tmp-${process.pid}`);
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp);
  writeTrainables(tmp, data.values, f);
  const names = [...data.values.keys()];
  const moments: Record<string, WritableTensor> = {};
  names.forEach((n, k) => {
    moments[`m.${n}`] = { dtype: 'F32', shape: [data.m[k].length], data: data.m[k] };
    moments[`v.${n}`] = { dtype: 'F32', shape: [data.v[k].length], data: data.v[k] };
  });
  writeSafetensors(join(tmp, 'optimizer.safetensors'), moments);
  writeFileSync(join(tmp, 'trainer_state.json'), JSON.stringify({ ...data.state, names }, null, 2) + '\n');
  const final = join(root, name);
  rmSync(final, { recursive: true, force: true });
  renameSync(tmp, final);
  for (const old of listCheckpoints(runDir).slice(0, -keep)) rmSync(old, { recursive: true, force: true });
  return final;
}

/** Trainable values as a PEFT adapter (LoRA) or a model.safetensors with HF names (full). */
export function writeTrainables(dir: string, values: CheckpointData['values'], f: CheckpointFormat): void {
  mkdirSync(dir, { recursive: true });
  if (f.mode === 'lora') {
    saveAdapter(dir, { settings: f.lora, baseModel: f.baseModel, values }, { fanInFanOut: f.fanInFanOut });
  } else {
    const tensors: Record<string, WritableTensor> = {};
    for (const [n, v] of values) tensors[n] = { dtype: 'F32', shape: v.shape, data: v.data };
    writeSafetensors(join(dir, 'model.safetensors'), tensors, { format: 'pt' });
  }
}

/** `<run>/best/`: the trainables of the best evaluation so far (an adapter, or a model folder). */
export function bestDir(runDir: string): string {
  return join(runDir, 'best');
}

/** Writes the best-so-far trainables atomically (temp folder, then rename) with `best.json` beside them. */
export function writeBest(
  runDir: string,
  values: CheckpointData['values'],
  f: CheckpointFormat,
  best: { step: number; evalLoss: number },
  extraFiles: (dir: string) => void = () => {},
): string {
  const final = bestDir(runDir);
  const tmp = `${final}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  writeTrainables(tmp, values, f);
  extraFiles(tmp);
  writeFileSync(join(tmp, 'best.json'), JSON.stringify(best, null, 2) + '\n');
  rmSync(final, { recursive: true, force: true });
  renameSync(tmp, final);
  return final;
}

/** Complete checkpoints of a run, oldest first. */
export function listCheckpoints(runDir: string): string[] {
  const root = checkpointsDir(runDir);
  if (!existsSync(root)) return [];
  return readdirSync(root)
    .filter((n) => STEP_DIR.test(n))
    .sort()
    .map((n) => join(root, n));
}

export function readCheckpointStep(dir: string): number {
  return (JSON.parse(readFileSync(join(dir, 'trainer_state.json'), 'utf8')) as TrainerState).step;
}

/**
 * `dir` is a checkpoint folder, or a run folder whose newest complete checkpoint is used: one cut
 * short (a kill while it was written, a full disk) is passed over, and `onSkip` says so.
 */
export function resolveCheckpoint(dir: string, onSkip: (message: string) => void = () => {}): string {
  if (existsSync(join(dir, 'trainer_state.json'))) {
    const problem = checkpointProblem(dir);
    if (problem)
      throw new UserError(`${dir}: incomplete checkpoint (${problem}); resume from its run folder`);
    return dir;
  }
  const all = listCheckpoints(dir);
  if (all.length === 0)
    throw new UserError(
      `${dir}: no checkpoint to resume from (expected checkpoints/step-*/trainer_state.json)`,
    );
  const skipped: string[] = [];
  for (const candidate of all.reverse()) {
    const problem = checkpointProblem(candidate);
    if (!problem) {
      if (skipped.length)
        onSkip(`${skipped.join('; ')}: resuming from ${basename(candidate)}, the newest complete one`);
      return candidate;
    }
    skipped.push(`${basename(candidate)} is incomplete (${problem})`);
  }
  throw new UserError(`${dir}: no complete checkpoint to resume from (${skipped.join('; ')})`);
}

/** Why a checkpoint folder cannot be resumed from (a file missing, cut short or unreadable), or undefined. */
export function checkpointProblem(dir: string): string | undefined {
  try {
    const state = JSON.parse(readFileSync(join(dir, 'trainer_state.json'), 'utf8')) as { names?: unknown };
    if (!Array.isArray(state.names)) return 'trainer_state.json has no tensor names';
    const opt = SafetensorsReader.open(join(dir, 'optimizer.safetensors'));
    const missing = (state.names as string[]).find((n) => !opt.has(`m.${n}`) || !opt.has(`v.${n}`));
    opt.close();
    if (missing !== undefined) return `no optimizer moments for ${missing}`;
    if (existsSync(join(dir, 'adapter_config.json'))) loadAdapter(dir);
    else SafetensorsReader.open(join(dir, 'model.safetensors')).close();
    return undefined;
  } catch (err) {
    return (err as Error).message.split('\n')[0];
  }
}

/** Temporary folders a killed writer left (`checkpoints/step-N.tmp-PID`, `best.tmp-PID`): never resumable. */
export function removeTemporaries(runDir: string): string[] {
  const found = [checkpointsDir(runDir), runDir].flatMap((root) =>
    existsSync(root)
      ? readdirSync(root)
          .filter((n) => TMP_DIR.test(n))
          .map((n) => join(root, n))
      : [],
  );
  for (const dir of found) rmSync(dir, { recursive: true, force: true });
  return found;
}

export function readCheckpoint(dir: string, f: CheckpointFormat): CheckpointData {
  const stateFile = join(dir, 'trainer_state.json');
  let parsed: TrainerState & { names: string[] };
  try {
    parsed = JSON.parse(readFileSync(stateFile, 'utf8'));
  } catch (err) {
    throw new UserError(`${stateFile}: unreadable checkpoint state (${(err as Error).message})`);
  }
  const values =
    f.mode === 'lora'
      ? loadAdapter(dir).values
      : (() => {
          const r = SafetensorsReader.open(join(dir, 'model.safetensors'));
          const map = new Map(r.names().map((n) => [n, { data: r.readFloat32(n), shape: r.info(n).shape }]));
          r.close();
          return map;
        })();
  const opt = SafetensorsReader.open(join(dir, 'optimizer.safetensors'));
  const m = parsed.names.map((n) => opt.readFloat32(`m.${n}`));
  const v = parsed.names.map((n) => opt.readFloat32(`v.${n}`));
  opt.close();
  const { names: _names, ...state } = parsed;
  return { state, values, m, v };
}
