/**
 * What a training run writes: metrics.jsonl (steps and evaluations), checkpoints, and at the end
 * the final adapter or model folder, the best evaluation's when the best is kept.
 */
import {
  appendFileSync,
  copyFileSync,
  cpSync,
  existsSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import type { Trainable } from '../models/params';
import { bestDir, writeCheckpoint, writeTrainables } from './checkpoint';
import type { TrainEvent } from './events';
import type { TrainHooks } from './options';
import type { Run } from './run';
import { toStored } from '../models/layout';

/** Reports events to the hooks; steps and evaluations also go to `<outDir>/metrics.jsonl`. */
export function eventSink(outDir: string, hooks: TrainHooks): (e: TrainEvent) => void {
  return (e) => {
    if (e.type === 'step' || e.type === 'eval')
      appendFileSync(join(outDir, 'metrics.jsonl'), JSON.stringify(e) + '\n');
    hooks.onEvent?.(e);
  };
}

/** On resume, metrics after the checkpoint's step are dropped: they are about to be recomputed. */
export function truncateMetrics(file: string, step: number): void {
  if (!existsSync(file)) return;
  const kept = readFileSync(file, 'utf8')
    .split('\n')
    .filter((line) => {
      if (!line) return false;
      try {
        return (JSON.parse(line) as { step?: number }).step! <= step;
      } catch {
        return false;
      }
    });
  writeFileSync(file, kept.map((l) => l + '\n').join(''));
}

export function checkpoint(run: Run): void {
  const { o, state, adam } = run;
  const dir = writeCheckpoint(
    o.outDir,
    {
      state: { ...state, position: { ...state.position }, adamSteps: adam.t },
      values: valueMap(run.trainables, run.values),
      m: adam.m.map((m, k) => toStored(run.trainables[k], m).data),
      v: adam.v.map((v, k) => toStored(run.trainables[k], v).data),
    },
    run.plan.format,
  );
  run.emit({ type: 'checkpoint', step: state.step, dir });
}

/** Writes `<run>/adapter` (LoRA) or `<run>/model` (full), and says whose parameters it holds. */
export function writeFinal(run: Run): { finalDir: string; finalIs: 'best' | 'last' } {
  const { o, plan } = run;
  const finalDir = join(o.outDir, o.mode === 'lora' ? 'adapter' : 'model');
  // With the best kept, the final adapter/model is the best evaluation's (when there was one).
  const finalIs = plan.keepBest && existsSync(join(bestDir(o.outDir), 'best.json')) ? 'best' : 'last';
  if (finalIs === 'best') {
    rmSync(finalDir, { recursive: true, force: true });
    cpSync(bestDir(o.outDir), finalDir, { recursive: true });
  } else {
    rmSync(join(finalDir, 'best.json'), { force: true });
    writeTrainables(finalDir, valueMap(run.trainables, run.values), plan.format);
    if (o.mode === 'full') copyModelFiles(o.model.dir, finalDir);
  }
  return { finalDir, finalIs };
}

/** The trainables' values by name, in the files' layout (HF shapes). */
export function valueMap(trainables: Trainable[], values: Float32Array[]) {
  return new Map(trainables.map((t, k) => [t.name, toStored(t, values[k])]));
}

/** A full fine-tune's output is a complete model folder: config and tokenizer beside the weights. */
export function copyModelFiles(from: string, to: string): void {
  for (const f of [
    'config.json',
    'generation_config.json',
    'tokenizer.json',
    'tokenizer_config.json',
    'special_tokens_map.json',
    'vocab.json',
    'merges.txt',
  ])
    if (existsSync(join(from, f))) copyFileSync(join(from, f), join(to, f));
}
