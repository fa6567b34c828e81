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
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import type { BaseDtype } from '../../src/engine/models/params';
import type { TrainOptions } from '../../src/engine/train/trainer';
import { codeStreams, tsFiles, tuneOnCode } from './codeTuning';

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

async function main() {
  const modelDir = resolve(args.model);
  const src = resolve(__dirname, '../../src');
  const heldOutDir = join(src, 'vscode');
  const all = tsFiles(src);
  const streams = await codeStreams(
    modelDir,
    all.filter((f) => !f.startsWith(heldOutDir)),
    all.filter((f) => f.startsWith(heldOutDir)),
  );
  const settings = {
    steps: Number(args.steps),
    batchTokens: Number(args['batch-tokens']),
    seqLen: Number(args.seq),
    lr: Number(args.lr),
    evalTokens: Number(args['eval-tokens']),
    threads: Number(args.threads),
  };
  const tuneWith = (baseDtype: BaseDtype, o: Partial<TrainOptions> = {}) =>
    tuneOnCode(modelDir, baseDtype, streams, settings, o);
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
          trainTokens: streams.train.ids.length,
          heldOutTokens: streams.heldOut.ids.length,
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

void main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
