/**
 * Evaluation during training: the mean validation loss on a forward-only graph, the best
 * evaluation kept (in `<run>/best/` when asked), and early stopping when patience runs out.
 */
import type { InferenceSession } from 'onnxruntime-node';
import type { Trainable } from '../models/params';
import { createSessionReleasing } from '../onnx/session';
import { allocBatch, feedsFor } from './batch';
import { writeBest } from './checkpoint';
import { buildLmGraph } from './lmGraph';
import type { TrainOptions } from './options';
import { copyModelFiles, valueMap } from './outputs';
import type { Run } from './run';
import { Windows, type TokenStream } from './windows';

/** Evaluates when an evaluation is due after this step; true when the run should stop early. */
export async function evaluateIfDue(run: Run): Promise<boolean> {
  const { o, plan, state } = run;
  const evalDue =
    o.validation && o.evalEvery > 0 && (state.step % o.evalEvery === 0 || state.step === plan.totalSteps);
  if (!(evalDue && o.validation)) return false;
  run.evalSession ??= await createSessionReleasing(
    {
      bytes: buildLmGraph(o.model, {
        mode: o.mode,
        lora: o.lora,
        seed: o.seed,
        withGradients: false,
      }).graph.toBytes(),
    },
    { threads: o.threads },
  );
  const evalLoss = await evaluate(
    run.evalSession,
    o.validation,
    o,
    plan.rowsPerMicro,
    run.trainables,
    run.values,
  );
  if (evalLoss === null) return false;
  recordEval(run, evalLoss);
  return patienceRanOut(run);
}

function recordEval(run: Run, evalLoss: number): void {
  const { o, plan, state } = run;
  const best = state.bestEvalLoss === null || evalLoss < state.bestEvalLoss;
  if (best) {
    state.bestEvalLoss = evalLoss;
    state.bestStep = state.step;
    state.evalsSinceBest = 0;
    if (plan.keepBest)
      writeBest(
        o.outDir,
        valueMap(run.trainables, run.values),
        plan.format,
        { step: state.step, evalLoss },
        (dir) => {
          if (o.mode === 'full') copyModelFiles(o.model.dir, dir);
        },
      );
  } else state.evalsSinceBest = (state.evalsSinceBest ?? 0) + 1;
  run.emit({ type: 'eval', step: state.step, evalLoss, best });
}

function patienceRanOut(run: Run): boolean {
  const { plan, state } = run;
  if (!(plan.patience > 0 && state.evalsSinceBest! >= plan.patience && state.step < plan.totalSteps))
    return false;
  run.emit({
    type: 'log',
    level: 'info',
    message: `early stopping at step ${state.step}: ${plan.patience} evaluation(s) without a lower validation loss than ${state.bestEvalLoss!.toFixed(4)} (step ${state.bestStep})`,
  });
  return true;
}

/** Mean weighted cross-entropy over (up to `evalTokens` of) the validation stream; null when it is too short. */
async function evaluate(
  session: InferenceSession,
  stream: TokenStream,
  o: TrainOptions,
  rowsPerMicro: number,
  trainables: Trainable[],
  values: Float32Array[],
): Promise<number | null> {
  const windows = new Windows(stream, o.seqLen, o.seed);
  const count = Math.min(windows.count, Math.max(1, Math.floor(o.evalTokens / o.seqLen)));
  if (count === 0) return null;
  let sum = 0;
  let weight = 0;
  for (let w0 = 0; w0 < count; w0 += rowsPerMicro) {
    const rows = Math.min(rowsPerMicro, count - w0);
    const b = allocBatch(rows, o.seqLen);
    for (let r = 0; r < rows; r++) weight += windows.fill(w0 + r, r, b.ids, b.labels, b.weights);
    const out = await session.run(feedsFor(b, o.seqLen, 1, trainables, values));
    sum += (out.loss.data as Float32Array)[0];
  }
  return weight > 0 ? sum / weight : null;
}
