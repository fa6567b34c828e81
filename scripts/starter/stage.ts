// The starter's pretraining runs in stages, one per working session: machines here are fresh each
// session, so what carries over is the shipped folder (models/starter/, its weights and
// pretraining.json, the history so far). A stage starts from those weights with fresh optimizer
// moments (a short warmup to the plan's rate at that step) and decays over its own steps to a tenth
// of that rate (the trainer's cosine), so every shipped snapshot is annealed. Prints the next stage as JSON; `--write` also
// keeps it in <dir>/stage.json for package.ts.
// Usage: node --import tsx scripts/starter/stage.ts [--dir DIR] [--steps N] [--write]
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { learningRate } from '../../src/engine/train/schedule';
import { starterDir } from './paths.mjs';

export interface PretrainingPlan {
  steps: number;
  batchTokens: number;
  seqLen: number;
  lr: number;
  warmup: number;
  minLrRatio: number;
}

export interface PretrainingHistory {
  plan: PretrainingPlan;
  step: number;
  tokens: number;
  seconds: number;
  stages: { fromStep: number; toStep: number; init: 'random' | 'shipped'; tokens: number; seconds: number }[];
  evals: { step: number; loss: number }[];
  trainLoss: { step: number; loss: number }[];
}

export interface Stage {
  fromStep: number;
  steps: number;
  init: 'random' | 'shipped';
  /** The stage's peak: the plan's rate at fromStep. */
  lr: number;
  warmup: number;
  seed: number;
}

export const PLAN: PretrainingPlan = {
  steps: 1200,
  batchTokens: 16384,
  seqLen: 512,
  lr: 1e-3,
  warmup: 60,
  minLrRatio: 0.1,
};
/** Steps with fresh AdamW moments before the stage's peak rate. */
const RESTART_WARMUP = 10;

export function historyFile(root: string): string {
  return join(root, 'models', 'starter', 'pretraining.json');
}

export function readHistory(root: string): PretrainingHistory | undefined {
  const file = historyFile(root);
  return existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as PretrainingHistory) : undefined;
}

/** The next stage of at most `maxSteps`, or undefined when the plan is done. */
export function nextStage(history: PretrainingHistory | undefined, maxSteps: number): Stage | undefined {
  const plan = history?.plan ?? PLAN;
  const fromStep = history?.step ?? 0;
  if (fromStep >= plan.steps) return undefined;
  const steps = Math.min(maxSteps, plan.steps - fromStep);
  if (!history) return { fromStep, steps, init: 'random', lr: plan.lr, warmup: plan.warmup, seed: 0 };
  const lr = learningRate(fromStep, {
    peak: plan.lr,
    warmup: plan.warmup,
    total: plan.steps,
    minRatio: plan.minLrRatio,
  });
  return {
    fromStep,
    steps,
    init: 'shipped',
    lr,
    warmup: RESTART_WARMUP,
    // Another seed per stage: the stage draws its own order of windows instead of replaying stage 1's.
    seed: fromStep,
  };
}

if (process.argv[1]?.endsWith('stage.ts')) {
  const root = new URL('../..', import.meta.url).pathname;
  const at = process.argv.indexOf('--steps');
  const maxSteps = at !== -1 ? Number(process.argv[at + 1]) : 100;
  const stage = nextStage(readHistory(root), maxSteps);
  if (stage && process.argv.includes('--write'))
    writeFileSync(join(starterDir(process.argv), 'stage.json'), JSON.stringify(stage, null, 2) + '\n');
  console.log(JSON.stringify(stage ?? null));
}
