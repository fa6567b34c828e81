/**
 * Weight-only int8 quantization of an inference graph: every MatMul and Gemm whose weight (B) is a
 * float32 initializer becomes onnxruntime's com.microsoft MatMulNBits with 8 bits, blockwise
 * symmetric: for each output column n and block of `blockSize` inputs, scale = max|w| / 127 and
 * q = round(w / scale) + 128 (MatMulNBits' default zero point for 8 bits is 2^(8−1) = 128).
 * Activations stay float32 (`accuracyLevel` 0) or are quantized on the fly by ORT (4: int8 compute).
 * Embedding lookups (Gather) keep their float32 tables.
 */
import { attr, Tensor, type Graph, type Initializer, type Node } from '../onnx/builder';
import { dropUnusedInitializers, quantizeColumns } from '../onnx/int8';

export interface QuantizeOptions {
  /** Inputs per scale; a power of two ≥ 16. */
  blockSize?: number;
  /** MatMulNBits accuracy_level: 0 computes in float32 from dequantized weights, 4 in int8. */
  accuracyLevel?: 0 | 1 | 2 | 3 | 4;
  /** Weights smaller than this many elements stay float32. */
  minElements?: number;
  /**
   * DynamicQuantizeMatMul (default): int8 weights with one scale per output column, activations
   * quantized per call to uint8, ORT's u8s8 integer GEMM (VNNI on x86) — what transformers.js'
   * q8 models use. MatMulNBits: blockwise 8-bit (`blockSize`, `accuracyLevel`); finer scales,
   * but onnxruntime-node 1.30 has no fast x86 kernel for 8 bits (gpt2-small, 2 cores: a 256-token
   * prefill 1.6–2 s against 0.28 s in float32).
   */
  kernel?: 'DynamicQuantizeMatMul' | 'MatMulNBits';
  /**
   * DynamicQuantizeMatMul's largest weight level: this CPU's by default (onnx/int8.ts); a file
   * written for other machines takes PORTABLE_INT8_LEVELS.
   */
  maxLevel?: number;
  /** Weights (initializer names) left float32: the layers whose quantization costs quality. */
  keepFloat?: (weightName: string) => boolean;
}

/** Quantizes w laid out [N, K] (one row per output): packed blocks [N, nBlocks, blockSize] and scales [N·nBlocks]. */
export function quantizeRows(
  w: ArrayLike<number>,
  N: number,
  K: number,
  blockSize: number,
  at: (n: number, k: number) => number = (n, k) => w[n * K + k],
): { packed: Uint8Array; scales: Float32Array; nBlocks: number } {
  const nBlocks = Math.ceil(K / blockSize);
  const packed = new Uint8Array(N * nBlocks * blockSize).fill(128); // padding dequantizes to 0
  const scales = new Float32Array(N * nBlocks);
  for (let n = 0; n < N; n++) {
    for (let b = 0; b < nBlocks; b++) {
      const k0 = b * blockSize;
      const k1 = Math.min(K, k0 + blockSize);
      let max = 0;
      for (let k = k0; k < k1; k++) max = Math.max(max, Math.abs(at(n, k)));
      const scale = max / 127;
      scales[n * nBlocks + b] = scale;
      if (scale === 0) continue;
      const base = (n * nBlocks + b) * blockSize - k0;
      for (let k = k0; k < k1; k++)
        packed[base + k] = Math.max(0, Math.min(255, Math.round(at(n, k) / scale) + 128));
    }
  }
  return { packed, scales, nBlocks };
}

/** Rewrites `g` in place; returns how many weights were quantized. */
export function quantizeGraphInt8(g: Graph, o: QuantizeOptions = {}): number {
  const blockSize = o.blockSize ?? 32;
  const minElements = o.minElements ?? 1024;
  const kernel = o.kernel ?? 'DynamicQuantizeMatMul';
  const initOf = (t: Tensor | null): Initializer | undefined => (t ? g.initializers.get(t.name) : undefined);
  let count = 0;
  for (let i = 0; i < g.nodes.length; i++) {
    const node = g.nodes[i];
    const [a, b, c] = node.inputs;
    const w = initOf(b);
    if (!a || !w || !(w.data instanceof Float32Array) || w.tensor.rank !== 2) continue;
    let transposed: boolean; // true: the weight is stored [N, K]; false: [K, N]
    if (node.op === 'MatMul') transposed = false;
    else if (
      // Gemm: y = A·B (B [K, N], GPT-2's Conv1D) or A·Bᵀ (B [N, K], a tied LM head), + C (a bias).
      node.op === 'Gemm' &&
      !node.attrs.transA &&
      !node.attrs.alpha &&
      (!c || !node.attrs.beta)
    )
      transposed = node.attrs.transB?.kind === 'int' && node.attrs.transB.value === 1;
    else continue;
    if (w.data.length < minElements || o.keepFloat?.(w.tensor.name)) continue;
    const [d0, d1] = w.tensor.shape as number[];
    const [N, K] = transposed ? [d0, d1] : [d1, d0];
    const data = w.data;
    // Gemm's C: a bias [N] becomes the kernel's own bias input (added in the kernel); anything
    // else (C broadcast from another shape, or computed in the graph) an Add after it.
    const cInit = initOf(c);
    const biasInput = c && cInit && cInit.tensor.rank === 1 && cInit.tensor.shape[0] === N ? c : null;
    const addAfter = c && !biasInput ? c : null;
    const out = node.outputs[0];
    const product = addAfter ? new Tensor(g.uniqueName(`${out.name}_q8`), out.dtype, out.shape) : out;
    let replacement: Node;
    if (kernel === 'DynamicQuantizeMatMul') {
      const { q, scales } = quantizeColumns(
        N,
        K,
        transposed ? (n, k) => data[n * K + k] : (n, k) => data[k * N + n],
        o.maxLevel,
      );
      const qB = g.initializer(`${w.tensor.name}.q8`, q, [K, N], 'int8');
      const qScales = g.initializer(`${w.tensor.name}.scales`, scales, [N]);
      replacement = {
        name: g.uniqueName(`${node.name}_q8`),
        op: 'DynamicQuantizeMatMul',
        domain: 'com.microsoft',
        // Inputs: A, B, b_scale, b_zero_point (absent: symmetric), bias.
        inputs: biasInput ? [a, qB, qScales, null, biasInput] : [a, qB, qScales],
        outputs: [product],
        attrs: {},
      };
    } else {
      const { packed, scales, nBlocks } = quantizeRows(
        data,
        N,
        K,
        blockSize,
        transposed ? undefined : (n, k) => data[k * N + n],
      );
      const qB = g.initializer(`${w.tensor.name}.q8`, packed, [N, nBlocks, blockSize], 'uint8');
      const qScales = g.initializer(`${w.tensor.name}.scales`, scales, [N * nBlocks]);
      replacement = {
        name: g.uniqueName(`${node.name}_q8`),
        op: 'MatMulNBits',
        domain: 'com.microsoft',
        // MatMulNBits' inputs: A, B, scales, zero_points, g_idx, bias (empty names: absent).
        inputs: biasInput ? [a, qB, qScales, null, null, biasInput] : [a, qB, qScales],
        outputs: [product],
        attrs: {
          K: attr.int(K),
          N: attr.int(N),
          bits: attr.int(8),
          block_size: attr.int(blockSize),
          accuracy_level: attr.int(o.accuracyLevel ?? 0),
        },
      };
    }
    g.nodes[i] = replacement;
    if (addAfter)
      g.nodes.splice(++i, 0, {
        name: g.uniqueName(`${node.name}_bias`),
        op: 'Add',
        inputs: [product, addAfter],
        outputs: node.outputs,
        attrs: {},
      });
    count++;
  }
  // The float32 weights nothing reads any more go (a tied embedding stays for its Gather).
  dropUnusedInitializers(g);
  return count;
}
