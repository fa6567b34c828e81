/**
 * Quality of LoRA on an int8 frozen base (`--base-dtype int8`): the same LoRA run twice from the
 * same seed on real code — once with the base in float32, once in int8 — and the held-out loss
 * each adapter reaches, scored on the float32 base (as the adapter is used). Prints one JSON
 * document with both losses, their relative difference and the 1% target beside it. Not a timing.
 *
 * npx tsx bench/quality/int8.ts [--model models/starter] [--steps 40] [--batch-tokens 2048]
 *   [--seq 256] [--lr 5e-4] [--eval-tokens 16384] [--threads 2] [--keep-fp32 lm_head,down_proj]...
 *
 * `base` is the held-out loss before tuning (one step at learning rate 0: B stays 0). Each
 * `--keep-fp32 LIST` adds an int8 run with those modules kept in float32 (int8Except), to find
 * the layers whose quantization costs quality.
 *
 * Data: this repository's own TypeScript — src/ outside src/vscode/ for training, src/vscode/
 * held out (a whole folder, as the dataset builder's folder split holds files out).
 */
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { tokenStreamFromFiles } from '../../src/data/datasetFiles';
import { loadModel } from '../../src/engine/models';
import type { BaseDtype } from '../../src/engine/models/params';
import { loadTokenizer } from '../../src/engine/tokenizer/tokenizer';
import { train, type TrainOptions } from '../../src/engine/train/trainer';
import type { TokenStream } from '../../src/engine/train/windows';

const TARGET = 0.01;
const { values: args } = parseArgs({
  options: {
    model: { type: 'string', default: 'models/starter' },
    steps: { type: 'string', default: '40' },
    'batch-tokens': { type: 'string', default: '2048' },
    seq: { type: 'string', default: '256' },
    lr: { type: 'string', default: '5e-4' },
    'eval-tokens': { type: 'string', default: '16384' },
    threads: { type: 'string', default: '2' },
    'keep-fp32': { type: 'string', multiple: true, default: [] },
  },
});

function tsFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && e.name.endsWith('.ts'))
    .map((e) => join(e.parentPath, e.name))
    .sort();
}

async function main() {
  const modelDir = resolve(args.model);
  const tokenizer = await loadTokenizer(modelDir);
  const src = resolve(__dirname, '../../src');
  const heldOutDir = join(src, 'vscode');
  const all = tsFiles(src);
  const trainStream = await tokenStreamFromFiles(
    all.filter((f) => !f.startsWith(heldOutDir)),
    tokenizer,
    { modelDir },
  );
  const heldOut = await tokenStreamFromFiles(
    all.filter((f) => f.startsWith(heldOutDir)),
    tokenizer,
    { modelDir },
  );
  const tuneWith = (baseDtype: BaseDtype, o: Partial<TrainOptions> = {}) =>
    tune(modelDir, baseDtype, trainStream, heldOut, o);
  const base = await tuneWith('fp32', { steps: 1, lr: 0 });
  const fp32 = await tuneWith('fp32');
  const int8 = await tuneWith('int8');
  const relative = (r: { heldOutLoss: number }) => (r.heldOutLoss - fp32.heldOutLoss) / fp32.heldOutLoss;
  const keptFp32 = [];
  for (const list of args['keep-fp32']) {
    const run = await tuneWith('int8', { int8Except: list.split(',') });
    keptFp32.push({ keepFp32: list, ...run, heldOutRelativeDiff: relative(run) });
  }
  console.log(
    JSON.stringify(
      {
        model: modelDir,
        data: {
          trainTokens: trainStream.ids.length,
          heldOutTokens: heldOut.ids.length,
          heldOut: 'src/vscode/',
        },
        settings: args,
        baseHeldOutLoss: base.heldOutLoss,
        fp32,
        int8,
        heldOutRelativeDiff: relative(int8),
        // How much of fp32's gain on the held-out data the int8 run keeps.
        gainKept: (base.heldOutLoss - int8.heldOutLoss) / (base.heldOutLoss - fp32.heldOutLoss),
        target: `|diff| <= ${TARGET}`,
        meetsTarget: Math.abs(relative(int8)) <= TARGET,
        keptFp32,
      },
      null,
      2,
    ),
  );
}

async function tune(
  modelDir: string,
  baseDtype: BaseDtype,
  trainStream: TokenStream,
  heldOut: TokenStream,
  o: Partial<TrainOptions>,
) {
  const model = loadModel(modelDir);
  const outDir = mkdtempSync(join(tmpdir(), `lt-int8-quality-${baseDtype}-`));
  const steps = o.steps ?? Number(args.steps);
  const losses: number[] = [];
  let heldOutLoss = NaN;
  try {
    await train(
      {
        model,
        baseModelName: modelDir,
        train: trainStream,
        validation: heldOut,
        mode: 'lora',
        baseDtype,
        lora: { r: 8, alpha: 16, dropout: 0, targets: model.family.defaultLoraTargets, rslora: false },
        steps,
        lr: Number(args.lr),
        warmupSteps: Math.min(10, Math.floor(steps / 4)),
        minLrRatio: 0.1,
        weightDecay: 0,
        clipNorm: 1,
        batchTokens: Number(args['batch-tokens']),
        seqLen: Number(args.seq),
        microBatchTokens: Math.min(1024, Number(args['batch-tokens'])),
        evalEvery: steps,
        evalTokens: Number(args['eval-tokens']),
        checkpointEvery: 0,
        seed: 0,
        outDir,
        threads: Number(args.threads),
        ...o,
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
  return { heldOutLoss, firstTrainLoss: losses[0], lastTrainLoss: losses.at(-1) };
}

void main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
