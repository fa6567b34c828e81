/**
 * Training throughput: LocalTune's engine against the PyTorch peers (bench/peers/train_gpt2.py,
 * train_llama.py), in the same run, on identical configs: random-init models of the shapes in
 * trainShapes.ts (gpt2-small, SmolLM2-135M's Llama shape, and tiny ones), LoRA (r=8, alpha 16,
 * each of the family's target sets or --targets) and full fine-tuning, 2048 tokens per optimizer step,
 * sequences of 256 (capped at the model's context), random token ids, AdamW. The peer runs in
 * both its recipes on this CPU: fp32, and bf16 autocast (PyTorch's advice on CPUs with AVX-512
 * BF16 / AMX). Every side reports the median step time over the steps after the first `warmup`.
 * Our LoRA runs twice: the frozen base in float32 and in int8 (`baseDtype: 'int8'`).
 *
 *   npx tsx bench/train.ts [--quick] [--shape small|tiny|smollm2-135m|tiny-llama] [--mode lora|full]
 *                          [--targets a,b] [--steps N] [--micro-tokens N] [--repeats N] [--no-peer]
 *                          [--recipes fp32,bf16-autocast] [--peer-allocator tcmalloc|glibc-thp]
 *
 * --peer-allocator: tcmalloc (default; PyTorch's performance guide advises it) or glibc started as
 * our workers are (freed memory kept, transparent huge pages: src/jobs/fork.ts). Huge pages speed
 * the peer up too, at a higher peak RSS (bench/README.md); a figure against one names which.
 *
 * --repeats: runs of each config, both sides (default 3 for full fine-tuning, 1 for LoRA); the
 * peer's bf16 autocast runs in the first only for full fine-tuning (its target is against fp32).
 * Each of our sides is set beside its GEMM-only bound: the step's matrix products
 * (stepGemms.ts) at the kernel times onnxruntime gives each shape here (ceiling/gemmTime.ts),
 * fp32 or int8 as our graph runs them. `targets` lists the issue's goals with both figures.
 *
 * --recipes: the peer's recipes to run (default both). On a CPU without AVX-512 BF16 or AMX, bf16
 * autocast is emulated and far slower than fp32 (gpt2-small LoRA on an AVX2 EPYC: see
 * bench/README.md), so a full fine-tuning run there may leave it out.
 *
 * --quick: tiny shapes only, 6 steps. Prints ONE JSON document on stdout; progress on stderr.
 *
 * Our side runs in a child process per config (so its peak RSS is its own) started as the
 * extension starts its workers (src/jobs/fork.ts's WORKER_ENV: glibc keeps freed memory, which on
 * these VMs is slow to touch again, and asks for transparent huge pages; docs/peers.md). The peer
 * runs through run_peer.sh.
 *
 * FLOPs per trained token (the peer's formula, so GFLOP/s compare like for like; elementwise
 * ops ignored): W = 2·(weight-matmul params) per token forward incl. the tied head (2·d·V),
 * A = 4·seq·d per layer (attention scores and values, full square as computed).
 * full: 3·(W + A)   (≈ 6·N_params + attention)
 * lora: 2·W + 3·A + 3·(2·r·(in+out) per adapted module)   (frozen weights need the input
 *       gradient only: ≈ 4·N_frozen_matmul + 6·N_lora + attention)
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, existsSync } from 'node:fs';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { BENCH_SHAPES, CPUINFO, cpuIsa, flopsPerToken, type BenchShape } from './trainShapes';
import { stepGemms } from './stepGemms';
import { GemmTimer } from './ceiling/gemmTime';
import { measureFmaPeak } from './ceiling/fmaPeak';
import { buildTargets, type RunRecord } from './trainTargets';
import { WORKER_ENV } from '../src/jobs/fork';

const TOKENS_PER_STEP = 2048;
// Tokens per graph run (the trainer's microBatchTokens): halves the [N, 50257] logits' memory.
const DEFAULT_MICRO_TOKENS = 1024;
const SEQ = 256;
const LORA = { r: 8, alpha: 16, dropout: 0, rslora: false };
const RECIPES = ['fp32', 'bf16-autocast'] as const;

interface Args {
  quick: boolean;
  shapes: string[];
  modes: ('lora' | 'full')[];
  steps: number;
  warmup: number;
  microTokens: number;
  peer: boolean;
  threads: number;
  /** LoRA targets instead of each shape's target sets. */
  targets?: string[];
  /** Runs of each config; absent: 3 for full fine-tuning, 1 for LoRA. */
  repeats?: number;
  /** The peer's recipes to run. */
  recipes: (typeof RECIPES)[number][];
  /** The peer's allocator: tcmalloc (PyTorch's docs advise it) or glibc as our workers run it. */
  peerAllocator: 'tcmalloc' | 'glibc-thp';
}

function parseArgs(argv: string[]): Args {
  const get = (flag: string) => {
    const i = argv.indexOf(flag);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const quick = argv.includes('--quick');
  const shape = get('--shape');
  const mode = get('--mode') as 'lora' | 'full' | undefined;
  return {
    quick,
    shapes: shape
      ? [shape === 'small' ? 'gpt2-small' : shape]
      : quick
        ? ['tiny', 'tiny-llama']
        : ['gpt2-small', 'smollm2-135m', 'tiny'],
    modes: mode ? [mode] : ['lora', 'full'],
    steps: Number(get('--steps') ?? (quick ? 6 : 10)),
    warmup: 2,
    microTokens: Number(get('--micro-tokens') ?? 0),
    peer: !argv.includes('--no-peer'),
    threads: Number(get('--threads') ?? 2),
    targets: get('--targets')?.split(','),
    repeats: get('--repeats') === undefined ? undefined : Number(get('--repeats')),
    recipes: recipesOf(get('--recipes')),
    peerAllocator: peerAllocatorOf(get('--peer-allocator')),
  };
}

function peerAllocatorOf(name: string | undefined): Args['peerAllocator'] {
  if (name === undefined || name === 'tcmalloc' || name === 'glibc-thp') return name ?? 'tcmalloc';
  throw new Error(`unknown --peer-allocator ${name} (tcmalloc | glibc-thp)`);
}

function recipesOf(list: string | undefined): (typeof RECIPES)[number][] {
  if (!list) return [...RECIPES];
  const asked = list.split(',');
  const unknown = asked.filter((r) => !(RECIPES as readonly string[]).includes(r));
  if (unknown.length) throw new Error(`unknown --recipes ${unknown.join(',')} (${RECIPES.join(' | ')})`);
  return RECIPES.filter((r) => asked.includes(r));
}

function seqFor(shape: BenchShape): number {
  return Math.min(SEQ, shape.ctx);
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

const round = (x: number, digits = 1) => Math.round(x * 10 ** digits) / 10 ** digits;
const log = (msg: string) => process.stderr.write(`[bench/train] ${msg}\n`);

// ------------------------------------------------------------------------------------ our side
interface ChildConfig {
  modelDir: string;
  shapeName: string;
  mode: 'lora' | 'full';
  steps: number;
  warmup: number;
  microTokens: number;
  threads: number;
  targets: string[];
  baseDtype: 'fp32' | 'int8';
}

const microTokensOf = (c: { microTokens: number }) =>
  c.microTokens > 0 ? c.microTokens : DEFAULT_MICRO_TOKENS;

async function runOursInChild(c: ChildConfig): Promise<Record<string, unknown>> {
  const { loadModel } = await import('../src/engine/models');
  const { train } = await import('../src/engine/train/trainer');
  const shape = BENCH_SHAPES[c.shapeName];
  const seq = seqFor(shape);
  const model = loadModel(c.modelDir);
  const rowsPerStep = TOKENS_PER_STEP / seq;
  const tokens = c.steps * rowsPerStep * seq + 1;
  let s = 12345;
  const ids = Uint32Array.from({ length: tokens }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s % shape.vocab;
  });
  const outDir = mkdtempSync(join(tmpdir(), 'lt-bench-run-'));
  const stepSeconds: number[] = [];
  const losses: number[] = [];
  const microTokens = microTokensOf(c);
  const loadBefore = loadavg()[0];
  const t0 = performance.now();
  let last = t0;
  try {
    await train(
      {
        model,
        baseModelName: c.modelDir,
        train: { ids, weights: new Uint8Array(tokens).fill(1) },
        mode: c.mode,
        lora: { ...LORA, targets: c.targets },
        ...(c.baseDtype === 'int8' ? { baseDtype: 'int8' as const } : {}),
        steps: c.steps,
        lr: c.mode === 'lora' ? 2e-4 : 5e-5,
        warmupSteps: 0,
        minLrRatio: 1,
        weightDecay: 0.01,
        clipNorm: 0,
        batchTokens: TOKENS_PER_STEP,
        seqLen: seq,
        microBatchTokens: microTokens,
        evalEvery: 0,
        evalTokens: 0,
        checkpointEvery: 0,
        seed: 0,
        outDir,
        threads: c.threads,
      },
      {
        onEvent: (e) => {
          if (e.type === 'start') last = performance.now(); // graph built, session created
          if (e.type === 'step') {
            const now = performance.now();
            stepSeconds.push((now - last) / 1000);
            last = now;
            losses.push(e.loss);
            log(
              `ours ${c.shapeName} ${c.mode} ${c.baseDtype} step ${e.step}: ${stepSeconds.at(-1)!.toFixed(3)} s`,
            );
          }
        },
      },
    );
  } finally {
    rmSync(outDir, { recursive: true, force: true });
  }
  const med = median(stepSeconds.slice(c.warmup));
  const fpt = flopsPerToken(shape, seq, c.mode, LORA.r, c.targets);
  const gflops = (fpt * TOKENS_PER_STEP) / med / 1e9;
  return {
    engine: 'localtune (onnxruntime-node)',
    base_dtype: c.baseDtype,
    seq,
    tokens_per_step: TOKENS_PER_STEP,
    micro_batch_tokens: microTokens,
    threads: c.threads,
    step_s_median: round(med, 4),
    step_s: stepSeconds.map((x) => round(x, 4)),
    tokens_per_s: round(TOKENS_PER_STEP / med),
    // The fastest measured step: less sensitive to other processes than the median.
    tokens_per_s_best: round(TOKENS_PER_STEP / Math.min(...stepSeconds.slice(c.warmup))),
    peak_rss_mb: round(process.resourceUsage().maxRSS / 1024),
    train_flops_per_token: fpt,
    gflop_s: round(gflops),
    loss_first_last: [round(losses[0], 4), round(losses.at(-1)!, 4)],
    loadavg_1m: [round(loadBefore, 2), round(loadavg()[0], 2)],
  };
}

/** Which side runs first in a repeat: PyTorch in odd repeats, ours in even ones. */
function repeatOrder(repeat: number): ('pytorch' | 'ours')[] {
  return repeat % 2 === 1 ? ['pytorch', 'ours'] : ['ours', 'pytorch'];
}

function spawnJson(cmd: string, args: string[], env: NodeJS.ProcessEnv): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { env, stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.on('error', reject);
    child.on('close', (code) => {
      const line = out.trim().split('\n').at(-1) ?? '';
      try {
        if (code !== 0) throw new Error(`exit ${code}`);
        resolve(JSON.parse(line) as Record<string, unknown>);
      } catch (e) {
        reject(new Error(`${cmd} ${args.join(' ')} failed (${(e as Error).message}): ${out.slice(-2000)}`));
      }
    });
  });
}

function runOurs(c: ChildConfig): Promise<Record<string, unknown>> {
  return spawnJson(process.execPath, [...process.execArgv, process.argv[1], '--child', JSON.stringify(c)], {
    ...process.env,
    ...WORKER_ENV,
  });
}

// ------------------------------------------------------------------------------------ the peer
function peerAvailable(): string | null {
  const r = spawnSync('/usr/bin/python3', ['-c', 'import torch'], { stdio: 'ignore' });
  if (r.status === 0) return null;
  const setup = join(__dirname, 'peers', 'setup.sh');
  if (existsSync(setup)) {
    log('torch does not import: running bench/peers/setup.sh');
    const s = spawnSync('bash', [setup], { stdio: ['ignore', 2, 2] });
    if (s.status === 0) return null;
  }
  return 'PyTorch (Debian python3-torch under /usr/bin/python3) is not installed; see bench/peers/setup.sh';
}

function runPeer(
  shape: BenchShape,
  mode: 'lora' | 'full',
  targets: string[],
  recipe: (typeof RECIPES)[number],
  a: Args,
): Promise<Record<string, unknown>> {
  return spawnJson(
    'bash',
    [
      join(__dirname, 'peers', 'run_peer.sh'),
      ...shape.peerArgs(),
      ...[
        '--mode',
        mode,
        '--targets',
        targets.join(','),
        '--r',
        String(LORA.r),
        '--alpha',
        String(LORA.alpha),
      ],
      ...['--tokens-per-step', String(TOKENS_PER_STEP), '--seq', String(SEQ)],
      ...['--steps', String(a.steps), '--warmup', String(a.warmup), '--threads', String(a.threads)],
      ...['--autocast', recipe === 'fp32' ? 'none' : 'bf16'],
    ],
    { ...process.env, OMP_NUM_THREADS: String(a.threads), PEER_ALLOCATOR: a.peerAllocator },
  );
}

function peerSummary(p: Record<string, unknown>, allocator: Args['peerAllocator']): Record<string, unknown> {
  const gflops = p.gflop_s as number;
  return {
    torch: p.torch,
    recipe: p.recipe,
    allocator,
    seq: p.seq,
    tokens_per_step: p.tokens_per_step,
    threads: p.threads,
    step_s_median: p.step_s_median,
    step_s: p.step_s,
    tokens_per_s: p.tokens_per_s,
    tokens_per_s_best: round(
      (p.tokens_per_step as number) / Math.min(...(p.step_s as number[]).slice(p.warmup as number)),
    ),
    peak_rss_mb: p.peak_rss_mb,
    train_flops_per_token: p.train_flops_per_token,
    gflop_s: gflops,
    loss_first_last: p.loss_first_last,
    loadavg_1m: p.loadavg_1m,
  };
}

// ------------------------------------------------------------------------------------ main
/** Our side set beside its GEMM-only bound: the share of the step its products alone would take. */
async function withBound(
  ours: Record<string, unknown>,
  shape: BenchShape,
  c: ChildConfig,
  timer: GemmTimer,
): Promise<Record<string, unknown>> {
  const loadBefore = loadavg()[0];
  const gemms = stepGemms(shape, {
    seq: seqFor(shape),
    tokensPerStep: TOKENS_PER_STEP,
    microTokens: microTokensOf(c),
    mode: c.mode,
    r: LORA.r,
    targets: c.targets,
    baseDtype: c.baseDtype,
  });
  const b = await timer.bound(gemms);
  const best = Math.min(...(ours.step_s as number[]).slice(c.warmup));
  return {
    ...ours,
    gemm_bound: {
      step_s: round(b.step_s, 4),
      share: round(b.step_s / (ours.step_s_median as number), 3),
      share_best: round(b.step_s / best, 3),
      gflop_per_step: round(b.gflop, 2),
      loadavg_1m: [round(loadBefore, 2), round(loadavg()[0], 2)],
      // The ten products that take most of the bound.
      products: b.products.slice(0, 10),
    },
  };
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const childAt = argv.indexOf('--child');
  if (childAt >= 0) {
    const result = await runOursInChild(JSON.parse(argv[childAt + 1]) as ChildConfig);
    process.stdout.write(JSON.stringify(result) + '\n');
    return;
  }
  const a = parseArgs(argv);
  const peerMissing = a.peer ? peerAvailable() : 'skipped (--no-peer)';
  if (peerMissing) log(`peer: ${peerMissing}`);
  // Measured before any run: a VM's model name does not say which generation's peak applies.
  const fma = measureFmaPeak(a.threads);
  const peak = 'gflop_s' in fma ? fma.gflop_s : null;
  const withPeak = (side: Record<string, unknown>) => ({
    ...side,
    pct_fp32_peak: peak ? round((100 * (side.gflop_s as number)) / peak) : null,
  });
  const timer = new GemmTimer(a.threads);
  const root = mkdtempSync(join(tmpdir(), 'lt-bench-models-'));
  const runs: RunRecord[] = [];
  try {
    for (const shapeName of a.shapes) {
      const shape = BENCH_SHAPES[shapeName];
      if (!shape) throw new Error(`unknown --shape ${shapeName} (${Object.keys(BENCH_SHAPES).join(' | ')})`);
      const modelDir = join(root, shapeName);
      mkdirSync(modelDir, { recursive: true });
      log(`writing a random ${shapeName} model`);
      await shape.write(modelDir);
      const configs = a.modes.flatMap((mode): { mode: 'lora' | 'full'; targets: string[] }[] =>
        mode === 'full'
          ? [{ mode, targets: a.targets ?? shape.loraTargetSets[0] }]
          : (a.targets ? [a.targets] : shape.loraTargetSets).map((targets) => ({ mode, targets })),
      );
      for (const { mode, targets } of configs) {
        const repeats = a.repeats ?? (mode === 'full' ? 3 : 1);
        const label = `${shapeName} ${mode}${mode === 'lora' ? ` ${targets.join(',')}` : ''}`;
        for (let repeat = 1; repeat <= repeats; repeat++) {
          const peers: Record<string, Record<string, unknown>> = {};
          // Full fine-tuning's target is against fp32 in every run; bf16 autocast is printed once.
          const recipes = mode === 'full' && repeat > 1 ? a.recipes.slice(0, 1) : a.recipes;
          const runPeers = async () => {
            for (const recipe of peerMissing ? [] : recipes) {
              log(`pytorch ${label} ${recipe} (run ${repeat}/${repeats})`);
              peers[recipe] = withPeak(
                peerSummary(await runPeer(shape, mode, targets, recipe, a), a.peerAllocator),
              );
              log(`pytorch ${label} ${recipe}: ${peers[recipe].tokens_per_s} tok/s`);
            }
          };
          const ours: Record<string, Record<string, unknown>> = {};
          const runOursAll = async () => {
            for (const baseDtype of mode === 'lora' ? (['fp32', 'int8'] as const) : (['fp32'] as const)) {
              const c: ChildConfig = {
                modelDir,
                shapeName,
                mode,
                steps: a.steps,
                warmup: a.warmup,
                microTokens: a.microTokens,
                threads: a.threads,
                targets,
                baseDtype,
              };
              log(`ours ${label} ${baseDtype} base (run ${repeat}/${repeats})`);
              ours[baseDtype] = withPeak(await withBound(await runOurs(c), shape, c, timer));
              log(`ours ${label} ${baseDtype}: ${ours[baseDtype].tokens_per_s} tok/s`);
            }
          };
          // The machine's speed drifts by 10-20% within minutes: the side that runs first alternates
          // from run to run, so a drift favours neither side over the repeats.
          const order = repeatOrder(repeat);
          for (const side of order) await (side === 'pytorch' ? runPeers() : runOursAll());
          const ratio = (key: 'tokens_per_s' | 'tokens_per_s_best') =>
            Object.fromEntries(
              Object.entries(ours).map(([dtype, o]) => [
                dtype,
                Object.fromEntries(
                  Object.entries(peers).map(([recipe, p]) => [
                    recipe,
                    round((o[key] as number) / (p[key] as number), 3),
                  ]),
                ),
              ]),
            );
          runs.push({
            shape: {
              name: shapeName,
              family: shape.family,
              layers: shape.layers,
              heads: shape.heads,
              d: shape.d,
              ctx: shape.ctx,
              vocab: shape.vocab,
            },
            mode,
            lora: mode === 'lora' ? { r: LORA.r, alpha: LORA.alpha, targets } : null,
            repeat,
            repeats,
            order,
            ours,
            pytorch: peerMissing ? { skipped: peerMissing } : peers,
            ratio: peerMissing ? null : ratio('tokens_per_s'),
            ratio_best: peerMissing ? null : ratio('tokens_per_s_best'),
          });
        }
      }
    }
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
  const isa = CPUINFO ? cpuIsa(CPUINFO) : null;
  const machine = {
    cpu: isa?.model ?? cpus()[0]?.model ?? 'unknown',
    cpu_id: isa?.id ?? null,
    isa: isa?.flags ?? [],
    cores: cpus().length,
    memory_gb: round(totalmem() / 2 ** 30),
    fp32_peak_gflop_s: peak,
    fp32_peak_source: 'gflop_s' in fma ? 'bench/ceiling/fma_peak.c, measured before the runs' : fma.error,
    node: process.version,
    steps: a.steps,
    warmup_steps_excluded: a.warmup,
    flops_formula:
      'full: 3*(W+A); lora: 2*W + 3*A + 3*Lr, W = 2*weight-matmul params incl. tied head (2*d*V), A = 4*seq*d per layer, Lr = 2*r*(in+out) per adapted module',
  };
  process.stdout.write(JSON.stringify({ machine, targets: buildTargets(runs), runs }, null, 2) + '\n');
}

main().catch((e) => {
  process.stderr.write(`${(e as Error).stack ?? e}\n`);
  process.exit(1);
});
