/**
 * The ceiling a training step runs into on this machine: GEMM throughput of onnxruntime (MLAS,
 * what our graphs use) and of PyTorch (OpenBLAS, the peer) at a model's forward shapes
 * (1024-token micro-batches), beside the FMA peak measured by a register-only loop (fma_peak.c,
 * built with gcc when present), and each training config's GEMM-only bound: the kernel time of
 * every product of its step (bench/stepGemms.ts, shared with bench/train.ts), fp32 or int8 as our
 * graph runs it (gemmTime.ts). Prints one JSON document.
 *
 *   npx tsx bench/ceiling/gemm.ts [--shape gpt2-small|smollm2-135m|tiny|tiny-llama] [--micro-tokens 1024]
 *                                 [--no-peer] [--no-fma]
 *
 * A step whose time is mostly GEMMs cannot beat the best GEMM's GFLOP/s: `bound_tokens_per_s`
 * is the shape's FLOPs per trained token (trainShapes.ts's formula) at that rate; `step_bounds`
 * is the tighter bound, each product at its own measured rate.
 */
import { spawnSync } from 'node:child_process';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { BENCH_SHAPES, flopsPerToken } from '../trainShapes';
import { measureFmaPeak } from './fmaPeak';
import { stepGemms, type StepConfig } from '../stepGemms';
import { GemmTimer, timeGemm } from './gemmTime';

const [TOKENS_PER_STEP, SEQ, R, THREADS] = [2048, 256, 8, 2]; // as bench/train.ts

const arg = (flag: string) => {
  const i = process.argv.indexOf(flag);
  return i >= 0 ? process.argv[i + 1] : undefined;
};
const round = (x: number) => Math.round(x * 10) / 10;

function peer(shapes: [m: number, k: number, n: number][]): Record<string, unknown> {
  const script = join(__dirname, 'gemm_peer.py');
  const env = join(__dirname, '..', 'peers', 'peer_env.sh');
  const specs = shapes.map((s) => s.join(',')).join(' ');
  const r = spawnSync('bash', ['-c', `. "${env}" && exec /usr/bin/python3 "${script}" ${specs}`], {
    encoding: 'utf8',
  });
  if (r.status !== 0)
    return { error: `PyTorch peer unavailable (see bench/peers/setup.sh): ${r.stderr.trim().slice(-300)}` };
  return JSON.parse(r.stdout.trim().split('\n').at(-1)!) as Record<string, unknown>;
}

async function main() {
  const shapeName = arg('--shape') ?? 'gpt2-small';
  const shape = BENCH_SHAPES[shapeName];
  if (!shape) throw new Error(`unknown --shape ${shapeName} (${Object.keys(BENCH_SHAPES).join(' | ')})`);
  const seq = Math.min(SEQ, shape.ctx);
  const microTokens = Number(arg('--micro-tokens') ?? 1024);
  const base = { seq, tokensPerStep: TOKENS_PER_STEP, microTokens, r: R };
  const configs: StepConfig[] = [
    ...shape.loraTargetSets.flatMap((targets) =>
      (['fp32', 'int8'] as const).map((baseDtype): StepConfig => ({
        ...base,
        mode: 'lora',
        targets,
        baseDtype,
      })),
    ),
    { ...base, mode: 'full', targets: [], baseDtype: 'fp32' },
  ];
  const loadBefore = loadavg()[0];
  // The rate comparison: each distinct forward product of the model (weights and head).
  const forward = new Map<string, { name: string; mkn: [number, number, number] }>();
  for (const g of stepGemms(shape, configs.at(-1)!))
    if (g.name.endsWith(' forward'))
      forward.set(`${g.m},${g.k},${g.n}`, { name: g.name.replace(/ forward$/, ''), mkn: [g.m, g.k, g.n] });
  const ours = [];
  for (const {
    name,
    mkn: [m, k, n],
  } of forward.values()) {
    const gflops = async (constantB: boolean) => {
      const t = await timeGemm({ batch: 1, m, k, n, dtype: 'fp32', constantB }, THREADS, 9);
      return round((2 * m * k * n) / t.median_s / 1e9);
    };
    ours.push({
      name,
      shape: [m, k, n],
      constant_b_gflop_s: await gflops(true),
      input_b_gflop_s: await gflops(false),
    });
  }
  const timer = new GemmTimer(THREADS);
  const stepBounds = [];
  for (const c of configs) {
    const b = await timer.bound(stepGemms(shape, c));
    stepBounds.push({
      mode: c.mode,
      base_dtype: c.baseDtype,
      ...(c.mode === 'lora' ? { lora_targets: c.targets } : {}),
      step_s: Math.round(b.step_s * 1e4) / 1e4,
      tokens_per_s: round(TOKENS_PER_STEP / b.step_s),
      gflop_s: round(b.gflop / b.step_s),
      products: b.products,
    });
  }
  const torch = process.argv.includes('--no-peer')
    ? { skipped: '--no-peer' }
    : peer([...forward.values()].map((f) => f.mkn));
  // Last: full-power FMAs (about 1.5 s) could lower the clock for what follows.
  const fma = process.argv.includes('--no-fma') ? { skipped: '--no-fma' } : measureFmaPeak(THREADS);
  const peak = 'gflop_s' in fma ? fma.gflop_s : null;
  const best = Math.max(...ours.map((o) => Math.max(o.constant_b_gflop_s, o.input_b_gflop_s)));
  const peerResults = ((torch as { results?: { gflop_s: number }[] }).results ?? []).map((r) => r.gflop_s);
  const ceiling = Math.max(best, ...peerResults);
  const [loraTargets] = shape.loraTargetSets;
  console.log(
    JSON.stringify(
      {
        shape: shapeName,
        seq,
        micro_batch_tokens: microTokens,
        fma_loop: fma,
        onnxruntime_mlas: ours,
        pytorch_openblas: torch,
        best_gemm_gflop_s: round(ceiling),
        best_gemm_pct_of_fma_peak: peak ? round((100 * ceiling) / peak) : null,
        bound_tokens_per_s: {
          note: `training if every FLOP ran at the best GEMM rate and nothing else took time (LoRA on ${loraTargets.join(',')})`,
          lora: round((ceiling * 1e9) / flopsPerToken(shape, seq, 'lora', R, loraTargets)),
          full: round((ceiling * 1e9) / flopsPerToken(shape, seq, 'full', R, [])),
        },
        step_bounds: stepBounds,
        loadavg_1m: [Math.round(loadBefore * 100) / 100, Math.round(loadavg()[0] * 100) / 100],
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
