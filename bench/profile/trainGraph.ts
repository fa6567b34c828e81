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
import { mkdirSync, readFileSync, readdirSync, existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { BENCH_SHAPES } from '../trainShapes';
import { loadModel } from '../../src/engine/models';
import { buildLmGraph } from '../../src/engine/train/lmGraph';
import { ort, toOrt } from '../../src/engine/onnx/session';

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
  session.endProfiling(); // onnxruntime-node returns no path: find `<prefix>_<time>.json`
  const file = readdirSync(dir)
    .filter((f) => f.startsWith(`profile-${mode}`) && f.endsWith('.json'))
    .map((f) => join(dir, f))
    .sort()
    .at(-1)!;
  const events = JSON.parse(readFileSync(file, 'utf8')) as {
    cat: string;
    name: string;
    dur: number;
    args?: { op_name?: string; output_type_shape?: unknown; input_type_shape?: unknown };
  }[];
  rmSync(file, { force: true });
  // Only the last run: the first pays for allocation.
  const runsSeen = events.filter((e) => e.cat === 'Session' && e.name === 'model_run');
  const lastRunStart = (runsSeen.at(-1) as unknown as { ts: number }).ts;
  const nodes = events.filter(
    (e) =>
      e.cat === 'Node' &&
      e.name.endsWith('_kernel_time') &&
      (e as unknown as { ts: number }).ts >= lastRunStart,
  );
  const byOp = new Map<string, { us: number; count: number }>();
  let total = 0;
  for (const e of nodes) {
    const op = e.args?.op_name ?? '?';
    const s = byOp.get(op) ?? { us: 0, count: 0 };
    s.us += e.dur;
    s.count++;
    byOp.set(op, s);
    total += e.dur;
  }
  // Time per (op, input shapes): which kind of node the time goes to.
  const bySig = new Map<string, { us: number; count: number }>();
  for (const e of nodes) {
    const shapes = (e.args?.input_type_shape as Record<string, number[]>[] | undefined) ?? [];
    const sig = `${e.args?.op_name} ${shapes.map((o) => Object.values(o)[0]?.join('x')).join(', ')}`;
    const s = bySig.get(sig) ?? { us: 0, count: 0 };
    s.us += e.dur;
    s.count++;
    bySig.set(sig, s);
  }
  const ops = [...byOp].sort((a, b) => b[1].us - a[1].us);
  const slow = [...nodes].sort((a, b) => b.dur - a.dur).slice(0, Number(arg('--top', '40')));
  console.log(
    JSON.stringify(
      {
        shape: shapeName,
        mode,
        targets: mode === 'lora' ? targets : undefined,
        base_dtype: baseDtype,
        tokens,
        wall_ms: wall.map((w) => Math.round(w)),
        kernel_ms: Math.round(total / 1000),
        by_op: ops.map(([op, s]) => ({
          op,
          ms: Math.round(s.us / 1000),
          pct: Math.round((1000 * s.us) / total) / 10,
          count: s.count,
        })),
        by_signature: [...bySig]
          .sort((a, b) => b[1].us - a[1].us)
          .slice(0, Number(arg('--signatures', '40')))
          .map(([sig, s]) => `${(s.us / 1000).toFixed(1)} ms  x${s.count}  ${sig}`),
        slowest: slow.map((e) => ({
          node: e.name.replace(/_kernel_time$/, ''),
          op: e.args?.op_name,
          ms: Math.round(e.dur / 100) / 10,
          in: e.args?.input_type_shape,
          out: e.args?.output_type_shape,
        })),
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
