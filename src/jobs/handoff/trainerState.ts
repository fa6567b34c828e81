/**
 * The loss history Hugging Face's Trainer keeps (TRL's SFTTrainer and Axolotl both run it):
 * `trainer_state.json`, whose `log_history` holds one entry per logged step (`loss`,
 * `learning_rate`, `grad_norm`) and per evaluation (`eval_loss`). Read into our metrics.jsonl
 * events, so the dashboard draws an imported run as it draws a local one.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { UserError } from '../../engine/errors';
import type { TrainEvent } from '../../engine/train/events';

export const TRAINER_STATE_FILE = 'trainer_state.json';

interface LogEntry {
  step?: number;
  loss?: number;
  learning_rate?: number;
  grad_norm?: number;
  eval_loss?: number;
  num_input_tokens_seen?: number;
  train_runtime?: number;
}

export interface TrainerState {
  global_step?: number;
  max_steps?: number;
  best_model_checkpoint?: string | null;
  log_history?: LogEntry[];
}

/** `dir/trainer_state.json`, else the one in its newest `checkpoint-N/` (a run saved only checkpoints). */
export function findTrainerState(dir: string): string | null {
  if (existsSync(join(dir, TRAINER_STATE_FILE))) return join(dir, TRAINER_STATE_FILE);
  const checkpoints = existsSync(dir)
    ? readdirSync(dir)
        .map((name) => ({ name, step: Number(/^checkpoint-(\d+)$/.exec(name)?.[1] ?? NaN) }))
        .filter((c) => Number.isInteger(c.step) && existsSync(join(dir, c.name, TRAINER_STATE_FILE)))
        .sort((a, b) => b.step - a.step)
    : [];
  return checkpoints.length ? join(dir, checkpoints[0].name, TRAINER_STATE_FILE) : null;
}

export function readTrainerState(path: string): TrainerState {
  try {
    const state = JSON.parse(readFileSync(path, 'utf8')) as TrainerState;
    if (!Array.isArray(state?.log_history)) throw new Error('no log_history list');
    return state;
  } catch (err) {
    throw new UserError(`${path}: not a trainer state (${(err as Error).message.split('\n')[0]})`);
  }
}

/** Step and evaluation events (metrics.jsonl lines), with the best evaluation marked as we mark it. */
export function historyEvents(state: TrainerState, tokensPerStep: number): TrainEvent[] {
  const log = state.log_history ?? [];
  const totalSteps = state.max_steps ?? state.global_step ?? 0;
  const runtime = log.find((e) => typeof e.train_runtime === 'number')?.train_runtime;
  const lastStep = state.global_step || Math.max(0, ...log.map((e) => e.step ?? 0));
  const events: TrainEvent[] = [];
  let best = Infinity;
  for (const e of log) {
    const step = e.step ?? 0;
    if (typeof e.loss === 'number') {
      const tokens = e.num_input_tokens_seen ?? step * tokensPerStep;
      const elapsed = runtime && lastStep ? (runtime * step) / lastStep : 0;
      events.push({
        type: 'step',
        step,
        totalSteps,
        loss: e.loss,
        lr: e.learning_rate ?? 0,
        gradNorm: e.grad_norm ?? 0,
        tokens,
        tokensPerSec: elapsed > 0 ? tokens / elapsed : 0,
        elapsed,
      });
    } else if (typeof e.eval_loss === 'number') {
      const isBest = e.eval_loss < best;
      best = Math.min(best, e.eval_loss);
      events.push({ type: 'eval', step, evalLoss: e.eval_loss, best: isBest });
    }
  }
  return events;
}

/** The step whose checkpoint the Trainer kept as best (load_best_model_at_end), if it did. */
export function bestStepOf(state: TrainerState): number | null {
  const m = /checkpoint-(\d+)\/?$/.exec(state.best_model_checkpoint ?? '');
  return m ? Number(m[1]) : null;
}
