/**
 * How long onnxruntime takes for one matrix product of a given shape on this machine, and so how
 * long a training step's products alone would take (its GEMM-only bound). Kernel time from
 * onnxruntime's profiler, not wall time: a session run's own overhead is no GEMM.
 *
 * fp32: MatMul, the weight as an initializer (`constantB`, pre-packed, as frozen weights are) or
 * as an input (trainable weights, activations, attention). int8: the product our int8 base builds
 * (autodiff/int8Product.ts: DynamicQuantizeMatMul, the activation quantized to uint8 in the call,
 * the weight int8 per column) — so the int8 bound uses int8 rates where our int8 path does.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Graph } from '../../src/engine/onnx/builder';
import { createSession, toOrt } from '../../src/engine/onnx/session';
import { int8Product } from '../../src/engine/autodiff/int8Product';
import { gemmFlops, type StepGemm } from '../stepGemms';

export type GemmShape = Pick<StepGemm, 'batch' | 'm' | 'k' | 'n' | 'dtype' | 'constantB'>;

export interface GemmTime {
  /** The fastest run's kernel time, seconds: the rate the bound uses. */
  best_s: number;
  median_s: number;
}

const filler = (i: number) => ((i * 2654435761) % 1000) / 1000 - 0.5;

function productGraph(s: GemmShape): Graph {
  if (s.constantB && s.batch !== 1) throw new Error('a constant B is one weight matrix (batch 1)');
  const g = new Graph();
  const lead = s.batch === 1 ? [] : [s.batch];
  const a = g.input('a', 'float32', [...lead, s.m, s.k]);
  if (s.dtype === 'int8') {
    if (!s.constantB) throw new Error('int8 products multiply a frozen weight');
    g.output(int8Product(g, a, { K: s.k, N: s.n, at: (k, n) => filler(k * s.n + n) }, 'b'), 'y');
    return g;
  }
  const b = s.constantB
    ? g.initializer(
        'b',
        Float32Array.from({ length: s.k * s.n }, (_, i) => filler(i)),
        [s.k, s.n],
      )
    : g.input('b', 'float32', [...lead, s.k, s.n]);
  g.output(g.matmul(a, b), 'y');
  return g;
}

interface ProfileEvent {
  cat: string;
  name: string;
  ts: number;
  dur: number;
}

/** Kernel time of each run after `warmup`, seconds: all node kernels of the run (the product). */
export async function timeGemm(s: GemmShape, threads: number, runs = 7, warmup = 2): Promise<GemmTime> {
  const dir = mkdtempSync(join(tmpdir(), 'lt-gemm-time-'));
  try {
    const session = await createSession(productGraph(s).toBytes(), { threads, profile: join(dir, 'p') });
    const a = s.batch * s.m * s.k;
    const feeds: Record<string, ReturnType<typeof toOrt>> = {
      a: toOrt(
        'float32',
        Float32Array.from({ length: a }, (_, i) => filler(i + 7)),
        s.batch === 1 ? [s.m, s.k] : [s.batch, s.m, s.k],
      ),
    };
    if (!s.constantB)
      feeds.b = toOrt(
        'float32',
        Float32Array.from({ length: s.batch * s.k * s.n }, (_, i) => filler(i)),
        s.batch === 1 ? [s.k, s.n] : [s.batch, s.k, s.n],
      );
    for (let i = 0; i < warmup + runs; i++) await session.run(feeds);
    session.endProfiling(); // onnxruntime-node returns no path: the one file in `dir`
    await session.release();
    const file = readdirSync(dir).find((f) => f.endsWith('.json'));
    if (!file) throw new Error('onnxruntime wrote no profile');
    const events = JSON.parse(readFileSync(join(dir, file), 'utf8')) as ProfileEvent[];
    const kernels = events.filter((e) => e.cat === 'Node' && e.name.endsWith('_kernel_time'));
    const perRun = events
      .filter((e) => e.cat === 'Session' && e.name === 'model_run')
      .slice(warmup)
      .map((r) =>
        kernels.filter((k) => k.ts >= r.ts && k.ts <= r.ts + r.dur).reduce((sum, k) => sum + k.dur / 1e6, 0),
      );
    if (perRun.length !== runs) throw new Error(`profile has ${perRun.length} runs, expected ${runs}`);
    const sorted = [...perRun].sort((x, y) => x - y);
    return { best_s: sorted[0], median_s: sorted[sorted.length >> 1] };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const key = (s: GemmShape) => `${s.dtype} ${s.constantB ? 'const' : 'input'} ${s.batch}x${s.m}x${s.k}x${s.n}`;

/** Times each distinct shape once; later calls reuse it (a benchmark bounds several configs). */
export class GemmTimer {
  private readonly times = new Map<string, Promise<GemmTime>>();
  private chain: Promise<unknown> = Promise.resolve();
  constructor(
    private readonly threads: number,
    private readonly runs = 7,
  ) {}

  time(s: GemmShape): Promise<GemmTime> {
    const k = key(s);
    let t = this.times.get(k);
    if (!t) {
      // One at a time: products timed side by side would share the cores.
      t = this.chain.then(() => timeGemm(s, this.threads, this.runs));
      this.chain = t;
      this.times.set(k, t);
    }
    return t;
  }

  /**
   * A step's GEMM-only bound: each product's fastest measured kernel time × its count, summed.
   * `products`: each distinct product with its share of the bound, largest first.
   */
  async bound(gemms: readonly StepGemm[]): Promise<{
    step_s: number;
    gflop: number;
    products: { name: string; shape: string; count: number; ms: number; gflop_s: number; pct: number }[];
  }> {
    const rows = [];
    for (const g of gemms) {
      const t = await this.time(g);
      rows.push({ g, s: t.best_s * g.count });
    }
    const total = rows.reduce((a, r) => a + r.s, 0);
    const flops = gemms.reduce((a, g) => a + gemmFlops(g), 0);
    return {
      step_s: total,
      gflop: flops / 1e9,
      products: rows
        .sort((x, y) => y.s - x.s)
        .map(({ g, s }) => ({
          name: g.name,
          shape: key(g),
          count: g.count,
          ms: Math.round(s * 1e5) / 100,
          gflop_s: Math.round(gemmFlops(g) / s / 1e8) / 10,
          pct: Math.round((1000 * s) / total) / 10,
        })),
    };
  }
}
