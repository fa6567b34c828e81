/**
 * The training benchmark's goals (issue 17), each read off bench/train.ts's runs with both figures,
 * their ratio and whether it was met, and the load average (1 min, before and after) of each side:
 *
 * - LoRA on an int8 base ≥ 1.3× PyTorch's bf16-autocast LoRA (tokens/s, medians), and beside
 *   the peer's fastest recipe on this CPU (bf16 autocast is emulated, so slower than fp32, on CPUs
 *   without AVX-512 BF16 or AMX);
 * - our fp32 LoRA ≥ 1.3× PyTorch's fp32 LoRA;
 * - full fine-tuning ≥ 1.0× PyTorch fp32 in every run (`--repeats`, default 3);
 * - peak RSS no higher than the peer's (fp32 beside fp32, int8 beside bf16 autocast);
 * - each of our steps ≥ 0.9 of its GEMM-only bound (bound step time / measured step time).
 *
 * The issue reads them on gpt2-small and the SmolLM2-135M shape (the LoRA fp32 goal with targets
 * c_attn and c_attn,c_proj,c_fc); tiny shapes get the same rows, to check the benchmark itself.
 */
type Side = Record<string, unknown>;

export interface RunRecord {
  shape: {
    name: string;
    family: string;
    layers: number;
    heads: number;
    d: number;
    ctx: number;
    vocab: number;
  };
  mode: 'lora' | 'full';
  lora: { r: number; alpha: number; targets: string[] } | null;
  repeat: number;
  repeats: number;
  /** The order the two sides ran in this repeat (it alternates between repeats). */
  order: ('pytorch' | 'ours')[];
  /** Our side by frozen-base dtype: `fp32`, and `int8` in LoRA. */
  ours: Record<string, Side>;
  /** The peer by recipe (`fp32`, `bf16-autocast`), or `{ skipped: why }`. */
  pytorch: Record<string, unknown>;
  ratio: unknown;
  ratio_best: unknown;
}

export interface Target {
  target: string;
  shape: string;
  mode: 'lora' | 'full';
  lora_targets?: string[];
  run: string;
  unit: string;
  ours: number | null;
  peer: number | null;
  ratio: number | null;
  met: boolean | null;
  loadavg_1m: { ours: unknown; peer: unknown };
}

const round3 = (x: number) => Math.round(x * 1000) / 1000;

function peerSide(run: RunRecord, recipe: string): Side | undefined {
  const p = run.pytorch[recipe];
  return typeof p === 'object' && p !== null ? (p as Side) : undefined;
}

/** One goal on one run: our figure against the other (the peer's, or the GEMM bound's). */
function row(
  run: RunRecord,
  target: string,
  unit: string,
  [ours, other]: [number, number | undefined],
  loads: [unknown, unknown],
  ratioOf: (ours: number, other: number) => number,
  pass: (ratio: number) => boolean,
): Target {
  const ratio = other === undefined ? null : round3(ratioOf(ours, other));
  return {
    target,
    shape: run.shape.name,
    mode: run.mode,
    ...(run.lora ? { lora_targets: run.lora.targets } : {}),
    run: `${run.repeat}/${run.repeats}`,
    unit,
    ours,
    peer: other ?? null,
    ratio,
    met: ratio === null ? null : pass(ratio),
    loadavg_1m: { ours: loads[0], peer: loads[1] ?? null },
  };
}

export function buildTargets(runs: readonly RunRecord[]): (Target | Record<string, unknown>)[] {
  const out: (Target | Record<string, unknown>)[] = [];
  const atLeast = (goal: number) => (r: number) => r >= goal;
  const atMost = (goal: number) => (r: number) => r <= goal;
  const over = (o: number, p: number) => o / p;
  for (const run of runs) {
    const [fp32, int8] = [run.ours.fp32, run.ours.int8];
    const [peerFp32, peerBf16] = [peerSide(run, 'fp32'), peerSide(run, 'bf16-autocast')];
    // Our side `o` against the peer's recipe `p` on `key`.
    const vs = (
      target: string,
      unit: string,
      o: Side,
      p: Side | undefined,
      key: string,
      pass: (r: number) => boolean,
    ) =>
      out.push(
        row(
          run,
          target,
          unit,
          [o[key] as number, p?.[key] as number | undefined],
          [o.loadavg_1m, p?.loadavg_1m],
          over,
          pass,
        ),
      );
    if (run.mode === 'lora') {
      if (int8)
        vs(
          'int8-base LoRA >= 1.3x PyTorch bf16-autocast LoRA',
          'tokens/s',
          int8,
          peerBf16,
          'tokens_per_s',
          atLeast(1.3),
        );
      const rate = (p: Side | undefined) => (p?.tokens_per_s as number | undefined) ?? 0;
      const fastest = rate(peerBf16) > rate(peerFp32) ? peerBf16 : peerFp32;
      if (int8 && fastest)
        vs(
          `int8-base LoRA >= 1.3x PyTorch's fastest LoRA recipe here (${fastest === peerBf16 ? 'bf16-autocast' : 'fp32'})`,
          'tokens/s',
          int8,
          fastest,
          'tokens_per_s',
          atLeast(1.3),
        );
      vs('fp32 LoRA >= 1.3x PyTorch fp32 LoRA', 'tokens/s', fp32, peerFp32, 'tokens_per_s', atLeast(1.3));
    } else {
      vs(
        'full fine-tuning >= 1.0x PyTorch fp32 (every run)',
        'tokens/s',
        fp32,
        peerFp32,
        'tokens_per_s',
        atLeast(1.0),
      );
    }
    vs('peak RSS <= PyTorch fp32', 'MB', fp32, peerFp32, 'peak_rss_mb', atMost(1.0));
    if (int8)
      vs('int8-base peak RSS <= PyTorch bf16-autocast', 'MB', int8, peerBf16, 'peak_rss_mb', atMost(1.0));
    for (const [dtype, side] of Object.entries(run.ours)) {
      const bound = side.gemm_bound as { step_s: number; loadavg_1m: unknown } | undefined;
      if (!bound) continue;
      // `peer` is the bound's step time; the ratio is the share, bound / ours.
      out.push(
        row(
          run,
          `${dtype}-base step >= 0.9 of its GEMM-only bound`,
          's per step (ours measured, peer = GEMM-only bound)',
          [side.step_s_median as number, bound.step_s],
          [side.loadavg_1m, bound.loadavg_1m],
          (o, b) => b / o,
          atLeast(0.9),
        ),
      );
    }
  }
  // Full fine-tuning's goal holds only when every run of a config meets it.
  const full = out.filter((t): t is Target => (t as Target).target?.startsWith('full fine-tuning') ?? false);
  for (const shape of new Set(full.map((t) => t.shape))) {
    const mine = full.filter((t) => t.shape === shape);
    const met = mine.filter((t) => t.met === true).length;
    out.push({
      target: 'full fine-tuning >= 1.0x PyTorch fp32 in every run',
      shape,
      mode: 'full',
      runs_met: `${met}/${mine.length}`,
      ratios: mine.map((t) => t.ratio),
      met: mine.some((t) => t.met === null) ? null : met === mine.length,
    });
  }
  return out;
}
