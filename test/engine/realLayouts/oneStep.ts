/** Training options for a run of one or two short steps on `ids` repeated: enough to move weights. */
import type { LoadedModel } from '../../../src/engine/models';
import type { TrainOptions } from '../../../src/engine/train/trainer';

export function shortRun(
  model: LoadedModel,
  o: {
    baseModelName: string;
    ids: number[];
    mode: 'lora' | 'full';
    steps: number;
    lr: number;
    outDir: string;
  },
): TrainOptions {
  const stream = Array.from({ length: 8 }, () => o.ids).flat();
  return {
    model,
    baseModelName: o.baseModelName,
    train: { ids: Uint32Array.from(stream), weights: new Uint8Array(stream.length).fill(1) },
    mode: o.mode,
    lora: { r: 4, alpha: 8, targets: model.family.defaultLoraTargets, dropout: 0, rslora: false },
    steps: o.steps,
    lr: o.lr,
    warmupSteps: 0,
    minLrRatio: 1,
    weightDecay: 0,
    clipNorm: 1,
    batchTokens: 32,
    seqLen: 16,
    microBatchTokens: 32,
    evalEvery: 1000,
    evalTokens: 32,
    checkpointEvery: 1000,
    seed: 1,
    outDir: o.outDir,
    threads: 1,
  };
}
