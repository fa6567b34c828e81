/**
 * The training loop: one ONNX train-step graph (forward, loss, gradients) run by onnxruntime,
 * AdamW between steps, warmup + cosine schedule, global-norm clipping, micro-batch gradient
 * accumulation, periodic evaluation, atomic checkpoints and exact resume.
 * All batch and gradient buffers are allocated once and reused every step.
 *
 * The phases live beside it: plan.ts checks the options, setup.ts starts or resumes the run,
 * step.ts runs one optimizer step, evaluation.ts evaluates, outputs.ts writes what the run leaves.
 */
import { evaluateIfDue } from './evaluation';
import type { TrainEvent } from './events';
import type { TrainHooks, TrainOptions } from './options';
import { checkpoint, eventSink, writeFinal } from './outputs';
import { planRun } from './plan';
import { setUpRun } from './setup';
import { trainStep } from './step';

export type { TrainHooks, TrainOptions } from './options';

export async function train(o: TrainOptions, hooks: TrainHooks = {}): Promise<TrainEvent & { type: 'done' }> {
  const plan = planRun(o);
  const run = await setUpRun(o, plan, eventSink(o.outDir, hooks));
  const { state } = run;
  let reason: 'finished' | 'stopped' = 'finished';
  let earlyStopped = false;
  while (state.step < plan.totalSteps) {
    if (hooks.shouldStop?.()) {
      reason = 'stopped';
      break;
    }
    await trainStep(run);
    if (await evaluateIfDue(run)) {
      earlyStopped = true;
      break;
    }
    if (o.checkpointEvery > 0 && state.step % o.checkpointEvery === 0 && state.step < plan.totalSteps)
      checkpoint(run);
  }
  checkpoint(run);
  const { finalDir, finalIs } = writeFinal(run);
  const done = {
    type: 'done' as const,
    step: state.step,
    reason,
    outDir: o.outDir,
    finalDir,
    bestEvalLoss: state.bestEvalLoss,
    bestStep: state.bestStep ?? null,
    earlyStopped,
    finalIs,
  };
  run.emit(done);
  return done;
}
