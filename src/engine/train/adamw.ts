/**
 * AdamW (Loshchilov & Hutter): Adam moments with bias correction and weight decay decoupled
 * from the gradient. One Float32Array pair per parameter, allocated once; the per-element work
 * runs in vectorKernels (float32 SIMD, as PyTorch's CPU AdamW computes).
 */
import { adamwUpdate, sumSquares } from './vectorKernels';

export interface AdamWSettings {
  beta1: number;
  beta2: number;
  eps: number;
  weightDecay: number;
}

export const ADAMW_DEFAULTS: AdamWSettings = { beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.0 };

export class AdamW {
  readonly m: Float32Array[];
  readonly v: Float32Array[];
  /** Number of updates applied so far (for bias correction). */
  t = 0;

  constructor(
    sizes: readonly number[],
    readonly s: AdamWSettings = ADAMW_DEFAULTS,
  ) {
    this.m = sizes.map((n) => new Float32Array(n));
    this.v = sizes.map((n) => new Float32Array(n));
  }

  /** p ← p − lr·(m̂ / (√v̂ + ε) + λ·p), gradients already scaled (e.g. clipped) by `gradScale`. */
  step(params: Float32Array[], grads: Float32Array[], lr: number, gradScale = 1): void {
    const { beta1, beta2, eps, weightDecay } = this.s;
    this.t++;
    const constants = {
      gradScale,
      beta1,
      beta2,
      stepSize: lr / (1 - beta1 ** this.t),
      invSqrtC2: 1 / Math.sqrt(1 - beta2 ** this.t),
      eps,
      decay: 1 - lr * weightDecay,
    };
    for (let k = 0; k < params.length; k++) adamwUpdate(params[k], grads[k], this.m[k], this.v[k], constants);
  }
}

/** √(Σ g²) over all gradients. */
export function globalNorm(grads: readonly Float32Array[]): number {
  return Math.sqrt(grads.reduce((sum, g) => sum + sumSquares(g), 0));
}
