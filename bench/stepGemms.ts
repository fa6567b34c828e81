/**
 * The matrix products of one training optimizer step, listed one shape at a time: what
 * bench/ceiling/ (the GEMM-only bound) times and what bench/train.ts divides its step time into.
 * Their FLOPs add up to trainShapes.ts's flopsPerToken (the peers' formula) × tokens per step
 * (test/bench/stepGemms.test.ts holds the two together).
 *
 * Per micro-batch of M tokens and per layer, for each weight matrix W [in, out] of the block:
 *   forward x·W [M,in]·[in,out]; input gradient dY·Wᵀ [M,out]·[out,in]; in full fine-tuning the
 *   weight gradient xᵀ·dY [in,M]·[M,out];
 *   a LoRA target adds x·A, (xA)·B, their input gradients dY·Bᵀ, d(xA)·Aᵀ and weight gradients
 *   xᵀ·d(xA), (xA)ᵀ·dY (rank r);
 *   attention, per sequence and head (hd = d / heads): Q·Kᵀ and P·V forward, dO·Vᵀ, Pᵀ·dO, dS·K,
 *   dSᵀ·Q backward (the full square, as computed);
 * and the tied head [d, V]: forward, input gradient, weight gradient in full fine-tuning.
 *
 * With an int8 base (LoRA), the frozen products run in int8 as models/params.ts builds them
 * (onnxruntime's DynamicQuantizeMatMul: u8 activations, int8 weights): every frozen forward and
 * input gradient, and the head's forward; the head's input gradient stays float32
 * (autodiff/int8Product.ts says why). LoRA and attention products are float32.
 *
 * Counted as the peers' formula counts them: layer 0's frozen input gradients into the block's
 * first projections, which autodiff skips in LoRA (nothing trainable lies below), are listed too
 * (under 1% of a gpt2-small LoRA step's FLOPs).
 */
import { isTarget, type BenchShape } from './trainShapes';

export type GemmDtype = 'fp32' | 'int8';

/** [batch, m, k] · [batch, k, n], `count` times per optimizer step. */
export interface StepGemm {
  /** What it computes, e.g. `c_fc forward`, `lm_head input gradient`, `attention Q·Kᵀ`. */
  name: string;
  batch: number;
  m: number;
  k: number;
  n: number;
  dtype: GemmDtype;
  /** B is a frozen weight: an initializer onnxruntime pre-packs (and, in int8, quantized ahead). */
  constantB: boolean;
  count: number;
}

export interface StepConfig {
  seq: number;
  tokensPerStep: number;
  /** Tokens per graph run: the M of every token-row product. */
  microTokens: number;
  mode: 'lora' | 'full';
  r: number;
  targets: readonly string[];
  baseDtype: 'fp32' | 'int8';
}

export const gemmFlops = (g: StepGemm): number => 2 * g.batch * g.m * g.k * g.n * g.count;

export function stepGemms(s: BenchShape, c: StepConfig): StepGemm[] {
  if (c.tokensPerStep % c.microTokens || c.microTokens % c.seq)
    throw new Error(
      `tokens per step ${c.tokensPerStep}, micro-batch ${c.microTokens}, seq ${c.seq} do not divide`,
    );
  if (c.baseDtype === 'int8' && c.mode !== 'lora') throw new Error('an int8 base is for LoRA only');
  const M = c.microTokens;
  const runs = c.tokensPerStep / M;
  const perLayer = runs * s.layers;
  const frozen = c.mode === 'lora';
  const baseDtype: GemmDtype = frozen ? c.baseDtype : 'fp32';
  const out: StepGemm[] = [];
  const add = (
    name: string,
    [m, k, n]: number[],
    dtype: GemmDtype,
    constantB: boolean,
    count: number,
    batch = 1,
  ) => out.push({ name, batch, m, k, n, dtype, constantB, count });

  for (const [module, [i, o]] of Object.entries(s.modules)) {
    add(`${module} forward`, [M, i, o], baseDtype, frozen, perLayer);
    add(`${module} input gradient`, [M, o, i], baseDtype, frozen, perLayer);
    if (!frozen) add(`${module} weight gradient`, [i, M, o], 'fp32', false, perLayer);
    if (frozen && isTarget(module, c.targets)) {
      const r = c.r;
      add(`${module} lora x·A`, [M, i, r], 'fp32', false, perLayer);
      add(`${module} lora (xA)·B`, [M, r, o], 'fp32', false, perLayer);
      add(`${module} lora dY·Bᵀ`, [M, o, r], 'fp32', false, perLayer);
      add(`${module} lora d(xA)·Aᵀ`, [M, r, i], 'fp32', false, perLayer);
      add(`${module} lora dA = xᵀ·d(xA)`, [i, M, r], 'fp32', false, perLayer);
      add(`${module} lora dB = (xA)ᵀ·dY`, [r, M, o], 'fp32', false, perLayer);
    }
  }

  const hd = s.d / s.heads;
  const heads = (M / c.seq) * s.heads;
  const q = c.seq;
  add('attention Q·Kᵀ', [q, hd, q], 'fp32', false, perLayer, heads);
  add('attention P·V', [q, q, hd], 'fp32', false, perLayer, heads);
  add('attention dO·Vᵀ', [q, hd, q], 'fp32', false, perLayer, heads);
  add('attention Pᵀ·dO', [q, q, hd], 'fp32', false, perLayer, heads);
  add('attention dS·K', [q, q, hd], 'fp32', false, perLayer, heads);
  add('attention dSᵀ·Q', [q, q, hd], 'fp32', false, perLayer, heads);

  add('lm_head forward', [M, s.d, s.vocab], baseDtype, frozen, runs);
  add('lm_head input gradient', [M, s.vocab, s.d], 'fp32', frozen, runs);
  if (!frozen) add('lm_head weight gradient', [s.vocab, M, s.d], 'fp32', false, runs);
  return out;
}
