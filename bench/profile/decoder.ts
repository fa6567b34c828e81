/**
 * Where a decoding run's time goes: the Decoder's own graph (what the completion worker, chat and
 * the CLI run) on a model folder, a prompt of --prompt tokens, then --steps new tokens, with
 * onnxruntime's profiler; prints the wall times and, for the last prefill (--phase prefill) or the
 * last decoding step (--phase decode), kernel time per op type, per (op, input shapes) and the
 * slowest nodes (JSON). For deciding what to optimise; not a benchmark against a peer.
 *
 *   npx tsx bench/profile/decoder.ts [--model DIR] [--dtype int8|fp32] [--phase decode|prefill]
 *     [--prompt 445] [--steps 8] [--runs 3] [--threads 2] [--spin] [--top 20] [--signatures 30]
 *
 * --model: default the SmolLM2-135M-shape folder bench/complete.ts writes (.cache/bench-complete/
 * smollm). Threads do not spin unless --spin (the completion worker's setting).
 */
import { existsSync, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Decoder } from '../../src/engine/generate/decoder';
import { loadModel } from '../../src/engine/models';
import { lastRunProfile, summarizeProfile } from './ortProfile';

const arg = (flag: string, dflt: string) => {
  const i = process.argv.indexOf(flag);
  return i >= 0 ? process.argv[i + 1] : dflt;
};
const root = resolve(__dirname, '..', '..');
const median = (xs: number[]) => +[...xs].sort((a, b) => a - b)[xs.length >> 1].toFixed(1);

async function main() {
  const dir = resolve(arg('--model', join(root, '.cache', 'bench-complete', 'smollm')));
  if (!existsSync(join(dir, 'config.json')))
    throw new Error(
      `${dir}: no model folder; run bench/complete.ts --shape smollm --worker-only first, or pass --model DIR`,
    );
  const dtype = arg('--dtype', 'int8') as 'int8' | 'fp32';
  const phase = arg('--phase', 'decode');
  const promptLength = Number(arg('--prompt', '445'));
  const steps = phase === 'prefill' ? 1 : Math.max(2, Number(arg('--steps', '8')));
  const out = join(root, '.cache', 'bench-profile');
  mkdirSync(out, { recursive: true });
  const model = loadModel(dir);
  const decoder = await Decoder.fromModel(model, {
    dtype,
    threads: Number(arg('--threads', '2')),
    spin: process.argv.includes('--spin'),
    profile: join(out, 'decoder'),
  });
  model.weights.close();
  const vocab = decoder.info.vocabSize;
  const prefill: number[] = [];
  const perStep: number[] = [];
  for (let r = 0; r < Number(arg('--runs', '3')); r++) {
    // A prompt the cache has not seen (its first token differs each run), ids past the special ones.
    const prompt = Array.from({ length: promptLength }, (_, i) => 100 + ((i * 7919 + r) % (vocab - 100)));
    decoder.reset();
    const res = await decoder.generate(prompt, { maxTokens: steps });
    prefill.push(res.firstTokenMs);
    if (steps > 1) perStep.push(1000 / res.decodeTokensPerSecond);
  }
  decoder.endProfiling();
  const { nodes, runMs } = lastRunProfile(out, 'decoder');
  console.log(
    JSON.stringify(
      {
        model: dir,
        dtype,
        phase,
        prompt_tokens: promptLength,
        prefill_ms: median(prefill),
        step_ms: perStep.length ? median(perStep) : undefined,
        profiled_run_ms: +runMs.toFixed(1),
        ...summarizeProfile(nodes, {
          top: Number(arg('--top', '20')),
          signatures: Number(arg('--signatures', '30')),
        }),
      },
      null,
      1,
    ),
  );
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
