/**
 * The fp32 ceiling a training step runs into on this machine: GEMM throughput of onnxruntime
 * (MLAS, what our graphs use) and of PyTorch (OpenBLAS, the peer) at gpt2-small's training
 * shapes (1024-token micro-batches), beside the FMA peak measured by a register-only loop
 * (fma_peak.c, built with gcc when present). Prints one JSON document.
 *
 *   npx tsx bench/ceiling/gemm.ts
 *
 * A step whose time is mostly GEMMs cannot beat the best GEMM's GFLOP/s: `bound_tokens_per_s`
 * is gpt2-small's FLOPs per trained token (bench/train.ts's formula) at that rate.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Graph } from '../../src/engine/onnx/builder';
import { createSession, toOrt } from '../../src/engine/onnx/session';

const DOCUMENTED_PEAK = 430; // docs/peers.md, as bench/train.ts
const SHAPES: [name: string, m: number, k: number, n: number][] = [
  ['c_attn', 1024, 768, 2304],
  ['c_fc', 1024, 768, 3072],
  ['mlp.c_proj', 1024, 3072, 768],
  ['lm_head', 1024, 768, 50257],
];
// bench/train.ts's FLOPs per token for gpt2-small, seq 256 (LoRA r=8 on c_attn,c_proj,c_fc; full).
const FLOPS_PER_TOKEN = { lora: 529517568, full: 0 };
FLOPS_PER_TOKEN.full = (() => {
  const [d, L, V, seq] = [768, 12, 50257, 256];
  return 3 * (L * 2 * 12 * d * d + 2 * d * V + L * 4 * seq * d);
})();

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
const round = (x: number) => Math.round(x * 10) / 10;

async function ortGflops(m: number, k: number, n: number, constantB: boolean): Promise<number> {
  const g = new Graph();
  const a = g.input('a', 'float32', [m, k]);
  const bData = Float32Array.from({ length: k * n }, (_, i) => ((i * 2654435761) % 1000) / 1000 - 0.5);
  const b = constantB ? g.initializer('b', bData, [k, n]) : g.input('b', 'float32', [k, n]);
  g.output(g.matmul(a, b), 'y');
  const session = await createSession(g.toBytes(), { threads: 2 });
  const feeds: Record<string, ReturnType<typeof toOrt>> = {
    a: toOrt(
      'float32',
      Float32Array.from({ length: m * k }, (_, i) => (i % 7) / 7 - 0.4),
      [m, k],
    ),
  };
  if (!constantB) feeds.b = toOrt('float32', bData, [k, n]);
  await session.run(feeds);
  const times: number[] = [];
  for (let i = 0; i < 9; i++) {
    const t0 = performance.now();
    await session.run(feeds);
    times.push(performance.now() - t0);
  }
  await session.release();
  return (2 * m * k * n) / median(times) / 1e6;
}

function peer(): Record<string, unknown> {
  const script = join(__dirname, 'gemm_peer.py');
  const env = join(__dirname, '..', 'peers', 'peer_env.sh');
  const shapes = SHAPES.map(([, m, k, n]) => `${m},${k},${n}`).join(' ');
  const r = spawnSync('bash', ['-c', `. "${env}" && exec /usr/bin/python3 "${script}" ${shapes}`], {
    encoding: 'utf8',
  });
  if (r.status !== 0)
    return { error: `PyTorch peer unavailable (see bench/peers/setup.sh): ${r.stderr.trim().slice(-300)}` };
  return JSON.parse(r.stdout.trim().split('\n').at(-1)!) as Record<string, unknown>;
}

function fmaPeak(): Record<string, unknown> {
  const dir = mkdtempSync(join(tmpdir(), 'lt-fma-'));
  try {
    const exe = join(dir, 'fma_peak');
    const cc = spawnSync(
      'gcc',
      ['-O3', '-march=native', '-fopenmp', join(__dirname, 'fma_peak.c'), '-o', exe],
      {
        encoding: 'utf8',
      },
    );
    if (cc.status !== 0)
      return { error: `gcc failed or missing: ${(cc.stderr ?? String(cc.error)).trim().slice(-300)}` };
    const run = spawnSync(exe, [], { encoding: 'utf8', env: { ...process.env, OMP_NUM_THREADS: '2' } });
    return JSON.parse(run.stdout.trim()) as Record<string, unknown>;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function main() {
  const loadBefore = loadavg()[0];
  const ours = [];
  for (const [name, m, k, n] of SHAPES)
    ours.push({
      name,
      shape: [m, k, n],
      constant_b_gflop_s: round(await ortGflops(m, k, n, true)),
      input_b_gflop_s: round(await ortGflops(m, k, n, false)),
    });
  const torch = peer();
  const fma = fmaPeak(); // last: a minute of full-power FMAs can lower the clock for what follows
  const best = Math.max(...ours.map((o) => Math.max(o.constant_b_gflop_s, o.input_b_gflop_s)));
  const peerResults = (torch.results as { gflop_s: number }[] | undefined) ?? [];
  const peerBest = Math.max(0, ...peerResults.map((r) => r.gflop_s));
  const ceiling = Math.max(best, peerBest);
  console.log(
    JSON.stringify(
      {
        documented_peak_gflop_s: DOCUMENTED_PEAK,
        fma_loop: fma,
        onnxruntime_mlas: ours,
        pytorch_openblas: torch,
        best_gemm_gflop_s: round(ceiling),
        best_gemm_pct_of_documented_peak: round((100 * ceiling) / DOCUMENTED_PEAK),
        bound_tokens_per_s: {
          note: 'gpt2-small training if every FLOP ran at the best GEMM rate and nothing else took time',
          lora: round((ceiling * 1e9) / FLOPS_PER_TOKEN.lora),
          full: round((ceiling * 1e9) / FLOPS_PER_TOKEN.full),
        },
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
