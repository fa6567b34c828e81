/**
 * Symmetric int8 weights for onnxruntime's integer GEMMs (com.microsoft DynamicQuantizeMatMul):
 * one scale per column of the right-hand operand, zero point 0. Shared by the int8 inference
 * graphs (generate/quantize.ts) and the int8 frozen base of LoRA training (autodiff/int8Product.ts).
 */
import type { Graph } from './builder';

/** Symmetric int8 per output column of w [N, K] (read through `at`): q [K, N] and scales [N]. */
export function quantizeColumns(
  N: number,
  K: number,
  at: (n: number, k: number) => number,
): { q: Int8Array; scales: Float32Array } {
  const q = new Int8Array(K * N);
  const scales = new Float32Array(N);
  for (let n = 0; n < N; n++) {
    let max = 0;
    for (let k = 0; k < K; k++) max = Math.max(max, Math.abs(at(n, k)));
    const scale = max / 127;
    scales[n] = scale;
    if (scale === 0) continue;
    for (let k = 0; k < K; k++) q[k * N + n] = Math.max(-127, Math.min(127, Math.round(at(n, k) / scale)));
  }
  return { q, scales };
}

/** Drops the initializers no node reads any more (float32 weights replaced by int8 copies). */
export function dropUnusedInitializers(g: Graph): void {
  const used = new Set<string>();
  for (const n of g.nodes) for (const t of n.inputs) if (t) used.add(t.name);
  for (const t of g.outputs) used.add(t.name);
  for (const name of [...g.initializers.keys()]) if (!used.has(name)) g.initializers.delete(name);
}
