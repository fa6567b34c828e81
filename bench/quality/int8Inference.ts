/**
 * Quality of int8 inference (the completion worker's and `localtune generate --dtype int8`'s
 * decoder) against float32 on a pretrained model and real code it never saw: held-out
 * cross-entropy of each decoder's logits, how often its top token is float32's (teacher-forced,
 * every position), and greedy continuations' agreement (tokens until the first difference).
 * Each variant is a quantization of the same graph; prints one JSON document. Not a timing.
 *
 * npx tsx bench/quality/int8Inference.ts [--model models/starter] [--windows 16] [--seq 256]
 *   [--prompts 12] [--new-tokens 32] [--variant name=kernel[:keep1,keep2]]...
 *
 * Data: this repository's src/vscode/ (TypeScript the starter model was not trained on).
 * A variant's kernel is DynamicQuantizeMatMul (per-column weight scales, one activation scale per
 * call) or MatMulNBits (blocks of 32 for both); `keep` lists weight-name parts left float32.
 */
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { Decoder } from '../../src/engine/generate/decoder';
import type { QuantizeOptions } from '../../src/engine/generate/quantize';
import { loadModel } from '../../src/engine/models';
import { tsFiles } from './codeTuning';
import { codeWindows, crossEntropy, top1Agreement, windowLogits } from './decoderAgreement';

const { values: args } = parseArgs({
  options: {
    model: { type: 'string', default: 'models/starter' },
    windows: { type: 'string', default: '16' },
    seq: { type: 'string', default: '256' },
    prompts: { type: 'string', default: '12' },
    'new-tokens': { type: 'string', default: '32' },
    variant: {
      type: 'string',
      multiple: true,
      default: ['int8=DynamicQuantizeMatMul', 'int8-head-fp32=DynamicQuantizeMatMul:lm_head,embed_tokens'],
    },
  },
});

interface Variant {
  name: string;
  options: QuantizeOptions;
}

function parseVariant(spec: string): Variant {
  const [name, rest] = spec.split('=');
  const [kernel, keep] = (rest ?? '').split(':');
  if (kernel !== 'DynamicQuantizeMatMul' && kernel !== 'MatMulNBits')
    throw new Error(`--variant ${spec}: the kernel is DynamicQuantizeMatMul or MatMulNBits`);
  const parts = keep ? keep.split(',') : [];
  return {
    name,
    options: { kernel, keepFloat: parts.length ? (w) => parts.some((p) => w.includes(p)) : undefined },
  };
}

async function main() {
  const modelDir = resolve(args.model);
  const src = resolve(__dirname, '../../src');
  const T = Number(args.seq);
  const windows = await codeWindows(modelDir, tsFiles(join(src, 'vscode')), Number(args.windows), T);
  const model = loadModel(modelDir);
  const V = model.family.vocabSize(model.config);

  const fp32 = await Decoder.fromModel(model, { dtype: 'fp32', threads: 2 });
  const reference = await windowLogits(fp32, windows);
  const prompts = windows.slice(0, Number(args.prompts)).map((w) => w.slice(0, T / 2));
  const maxTokens = Number(args['new-tokens']);
  const greedy = async (decoder: Decoder) => {
    const out: number[][] = [];
    for (const p of prompts) out.push((await decoder.generate(p, { maxTokens, promptCache: false })).tokens);
    return out;
  };
  const referenceGreedy = await greedy(fp32);

  const fp32CrossEntropy = crossEntropy(reference, windows, V);
  const results = [];
  for (const spec of args.variant) {
    const variant = parseVariant(spec);
    const decoder = await Decoder.fromModel(model, { dtype: 'int8', int8: variant.options, threads: 2 });
    const rows = await windowLogits(decoder, windows);
    const tokens = await greedy(decoder);
    const prefix = tokens.map((seq, i) => {
      let k = 0;
      while (k < seq.length && seq[k] === referenceGreedy[i][k]) k++;
      return k;
    });
    const ce = crossEntropy(rows, windows, V);
    results.push({
      variant: spec,
      heldOutCrossEntropy: ce,
      relativeToFp32: ce / fp32CrossEntropy - 1,
      top1SameAsFp32: top1Agreement(rows, reference, V),
      greedyTokensAgreeing: prefix,
      greedyWholeAgreeing: prefix.filter((k) => k === maxTokens).length,
    });
  }
  console.log(
    JSON.stringify(
      {
        model: modelDir,
        heldOut: 'src/vscode/',
        windows: windows.length,
        seq: T,
        fp32CrossEntropy,
        greedy: { prompts: prompts.length, promptTokens: T / 2, newTokens: maxTokens },
        variants: results,
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
