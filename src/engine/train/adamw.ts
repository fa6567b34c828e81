/**
 * AdamW (Loshchilov & Hutter): Adam moments with bias correction and weight decay decoupled
 * from the gradient. One Float32Array pair per parameter, allocated once.
 */
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
    const c1 = 1 - beta1 ** this.t;
    const c2 = 1 - beta2 ** this.t;
    for (let k = 0; k < params.length; k++) {
      const p = params[k];
      const g = grads[k];
      const m = this.m[k];
      const v = this.v[k];
      for (let i = 0; i < p.length; i++) {
        const gi = g[i] * gradScale;
        m[i] = beta1 * m[i] + (1 - beta1) * gi;
        v[i] = beta2 * v[i] + (1 - beta2) * gi * gi;
        p[i] -= lr * (m[i] / c1 / (Math.sqrt(v[i] / c2) + eps) + weightDecay * p[i]);
      }
    }
  }
}

/** √(Σ g²) over all gradients. */
export function globalNorm(grads: readonly Float32Array[]): number {
  let sum = 0;
  for (const g of grads) for (let i = 0; i < g.length; i++) sum += g[i] * g[i];
  return Math.sqrt(sum);
}
