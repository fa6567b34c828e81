/**
 * LoRA runs on this repository's own code, for comparing how the frozen base is held: streams of
 * TypeScript files (training and held-out folders) and one seeded run that reports the held-out
 * loss its adapter reaches on the float32 base (the trainer's evaluation graph is float32 whatever
 * the training graph holds). Shared by bench/quality/int8.ts and its quality-guard test.
 */
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { tokenStreamFromFiles } from '../../src/data/datasetFiles';
import { loadModel } from '../../src/engine/models';
import type { BaseDtype } from '../../src/engine/models/params';
import { loadTokenizer } from '../../src/engine/tokenizer/tokenizer';
import { train, type TrainOptions } from '../../src/engine/train/trainer';
import type { TokenStream } from '../../src/engine/train/windows';

export function tsFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && e.name.endsWith('.ts'))
    .map((e) => join(e.parentPath, e.name))
    .sort();
}

/** Token streams of `trainFiles` and `heldOutFiles` in the model's tokenizer. */
export async function codeStreams(
  modelDir: string,
  trainFiles: string[],
  heldOutFiles: string[],
): Promise<{ train: TokenStream; heldOut: TokenStream }> {
  const tokenizer = await loadTokenizer(modelDir);
  return {
    train: await tokenStreamFromFiles(trainFiles, tokenizer, { modelDir }),
    heldOut: await tokenStreamFromFiles(heldOutFiles, tokenizer, { modelDir }),
  };
}

export interface TuneSettings {
  steps: number;
  batchTokens: number;
  seqLen: number;
  lr: number;
  evalTokens: number;
  threads: number;
}

/**
 * One LoRA run (r 8, α 16, the family's targets, seed 0) with the base held as `baseDtype`; the
 * held-out loss is its one evaluation, after the last step. `extra` overrides any option
 * (`{ steps: 1, lr: 0 }` scores the base: B stays 0).
 */
export async function tuneOnCode(
  modelDir: string,
  baseDtype: BaseDtype,
  streams: { train: TokenStream; heldOut: TokenStream },
  s: TuneSettings,
  extra: Partial<TrainOptions> = {},
): Promise<{ heldOutLoss: number; firstTrainLoss: number; lastTrainLoss: number }> {
  const model = loadModel(modelDir);
  const outDir = mkdtempSync(join(tmpdir(), `lt-code-tuning-${baseDtype}-`));
  const steps = extra.steps ?? s.steps;
  const losses: number[] = [];
  let heldOutLoss = NaN;
  try {
    await train(
      {
        model,
        baseModelName: modelDir,
        train: streams.train,
        validation: streams.heldOut,
        mode: 'lora',
        baseDtype,
        lora: { r: 8, alpha: 16, dropout: 0, targets: model.family.defaultLoraTargets, rslora: false },
        steps,
        lr: s.lr,
        warmupSteps: Math.min(10, Math.floor(steps / 4)),
        minLrRatio: 0.1,
        weightDecay: 0,
        clipNorm: 1,
        batchTokens: s.batchTokens,
        seqLen: s.seqLen,
        microBatchTokens: Math.min(1024, s.batchTokens),
        evalEvery: steps,
        evalTokens: s.evalTokens,
        checkpointEvery: 0,
        seed: 0,
        outDir,
        threads: s.threads,
        ...extra,
      },
      {
        onEvent: (e) => {
          if (e.type === 'step') losses.push(e.loss);
          if (e.type === 'eval') heldOutLoss = e.evalLoss;
        },
      },
    );
  } finally {
    rmSync(outDir, { recursive: true, force: true });
  }
  return { heldOutLoss, firstTrainLoss: losses[0], lastTrainLoss: losses.at(-1)! };
}
