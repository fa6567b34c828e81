/**
 * Where a training step's time goes: builds the LoRA or full training graph for a random-init
 * model of one of bench/train.ts's shapes, runs it with onnxruntime's profiler and prints time per
 * op type and the slowest nodes (JSON). For deciding what to optimise; not a benchmark against a peer.
 *
 *   MALLOC_MMAP_MAX_=0 MALLOC_TRIM_THRESHOLD_=68719476736 \
 *     npx tsx bench/profile/trainGraph.ts [--shape gpt2-small|smollm2-135m|tiny|tiny-llama]
 *       [--mode lora|full] [--targets a,b] [--base-dtype fp32|int8] [--tokens 1024] [--runs 3]
 *       [--accumulate]
 *
 * --targets: LoRA's targets (default: every linear layer of the family's blocks).
 *
 * --accumulate: the graph a step of several micro-batches runs, each gradient added to grad_in
 * (fed and fetched through one buffer, as the trainer does).
 */
import { mkdirSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { BENCH_SHAPES } from '../trainShapes';
import { loadModel } from '../../src/engine/models';
import { buildLmGraph } from '../../src/engine/train/lmGraph';
import { ort, toOrt } from '../../src/engine/onnx/session';
import { lastRunProfile, summarizeProfile } from './ortProfile';

const arg = (flag: string, dflt: string) => {
  const i = process.argv.indexOf(flag);
  return i >= 0 ? process.argv[i + 1] : dflt;
};

async function main() {
  const shapeName = arg('--shape', 'gpt2-small');
  const shape = BENCH_SHAPES[shapeName];
  if (!shape) throw new Error(`unknown --shape ${shapeName} (${Object.keys(BENCH_SHAPES).join(' | ')})`);
  const mode = arg('--mode', 'lora') as 'lora' | 'full';
  const tokens = Number(arg('--tokens', '1024'));
  const runs = Number(arg('--runs', '3'));
  const baseDtype = arg('--base-dtype', 'fp32') as 'fp32' | 'int8';
  const seq = Math.min(256, shape.ctx);
  const dir = join(__dirname, '..', '..', '.cache', 'bench-profile', shapeName);
  if (!existsSync(join(dir, 'model.safetensors'))) {
    mkdirSync(dir, { recursive: true });
    await shape.write(dir);
  }
  const model = loadModel(dir);
  const targets = arg('--targets', Object.keys(shape.modules).join(',')).split(',');
  const lora = { r: 8, alpha: 16, targets, dropout: 0, rslora: false };
  const accumulates = process.argv.includes('--accumulate');
  const { graph, trainables } = buildLmGraph(model, {
    mode,
    lora,
    withGradients: true,
    accumulates,
    ...(baseDtype === 'int8' ? { baseDtype } : {}),
  });
  const prefix = join(dir, `profile-${mode}`);
  const session = await ort().InferenceSession.create(graph.toBytes(), {
    intraOpNumThreads: 2,
    interOpNumThreads: 1,
    graphOptimizationLevel: 'all',
    enableCpuMemArena: true,
    enableMemPattern: false,
    executionMode: 'sequential',
    enableProfiling: true,
    profileFilePrefix: prefix,
  });
  const rows = tokens / seq;
  const ids = BigInt64Array.from({ length: tokens }, (_, i) => BigInt((i * 7919) % shape.vocab));
  const feeds: Record<string, ReturnType<typeof toOrt>> = {
    input_ids: toOrt('int64', ids, [rows, seq]),
    labels: toOrt('int64', ids, [rows, seq]),
    loss_weights: toOrt('float32', new Float32Array(tokens).fill(1), [rows, seq]),
    loss_scale: toOrt('float32', Float32Array.of(1 / tokens), []),
  };
  for (const t of trainables) feeds[t.name] = toOrt('float32', t.initial, t.shape);
  const fetches: Record<string, ReturnType<typeof toOrt> | null> = { loss: null };
  for (const t of trainables) {
    const sum = toOrt('float32', new Float32Array(t.initial.length), t.shape);
    fetches[`grad.${t.name}`] = sum;
    if (accumulates) feeds[`grad_in.${t.name}`] = sum;
  }
  const wall: number[] = [];
  for (let r = 0; r < runs; r++) {
    const t0 = performance.now();
    await session.run(feeds, fetches);
    wall.push(performance.now() - t0);
  }
  session.endProfiling();
  const { nodes } = lastRunProfile(dir, `profile-${mode}`);
  console.log(
    JSON.stringify(
      {
        shape: shapeName,
        mode,
        targets: mode === 'lora' ? targets : undefined,
        base_dtype: baseDtype,
        tokens,
        wall_ms: wall.map((w) => Math.round(w)),
        ...summarizeProfile(nodes, {
          top: Number(arg('--top', '40')),
          signatures: Number(arg('--signatures', '40')),
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
