/**
 * Symmetric int8 weights for onnxruntime's integer GEMMs (com.microsoft DynamicQuantizeMatMul):
 * one scale per column of the right-hand operand, zero point 0. Shared by the int8 inference
 * graphs (generate/quantize.ts) and the int8 frozen base of LoRA training (autodiff/int8Product.ts).
 */
import { readFileSync } from 'node:fs';
import type { Graph } from './builder';

/** The largest level a portable file's weights use: safe on every CPU (see `int8WeightLevels`). */
export const PORTABLE_INT8_LEVELS = 63;

let levels: number | undefined;

/**
 * The largest weight level (±levels) onnxruntime's integer GEMM multiplies exactly on this CPU.
 * On x86 without VNNI (AVX2, AVX-512 without VNNI) MLAS multiplies u8 activations by s8 weights
 * with vpmaddubsw, which adds each pair of products in a saturating int16: 255·127·2 overflows,
 * 255·63·2 = 32,130 does not. With AVX-512 VNNI, AVX-VNNI or AMX the sums are int32, as with
 * ARM's dot products. (AMD EPYC Milan, AVX2: a product 2.4× beyond its quantization bound at 127,
 * within it at 63.) Where the flags cannot be read, the safe 63.
 */
export function int8WeightLevels(): number {
  levels ??= process.arch !== 'x64' || x64HasInt32DotProducts() ? 127 : PORTABLE_INT8_LEVELS;
  return levels;
}

function x64HasInt32DotProducts(): boolean {
  try {
    return /\b(avx512_vnni|avx_vnni|amx_int8)\b/.test(readFileSync('/proc/cpuinfo', 'utf8'));
  } catch {
    return false;
  }
}

/**
 * Symmetric int8 per output column of w [N, K] (read through `at`): q [K, N] and scales [N], the
 * levels within ±`maxLevel` (this CPU's, by default).
 */
export function quantizeColumns(
  N: number,
  K: number,
  at: (n: number, k: number) => number,
  maxLevel = int8WeightLevels(),
): { q: Int8Array; scales: Float32Array } {
  const q = new Int8Array(K * N);
  const scales = new Float32Array(N);
  for (let n = 0; n < N; n++) {
    let max = 0;
    for (let k = 0; k < K; k++) max = Math.max(max, Math.abs(at(n, k)));
    const scale = max / maxLevel;
    scales[n] = scale;
    if (scale === 0) continue;
    for (let k = 0; k < K; k++)
      q[k * N + n] = Math.max(-maxLevel, Math.min(maxLevel, Math.round(at(n, k) / scale)));
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
