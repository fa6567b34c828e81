/**
 * Weight-only int8 quantization of an inference graph: every MatMul (and transB Gemm) whose weight is
 * a float32 initializer becomes onnxruntime's com.microsoft MatMulNBits with 8 bits, blockwise
 * symmetric: for each output column n and block of `blockSize` inputs, scale = max|w| / 127 and
 * q = round(w / scale) + 128 (MatMulNBits' default zero point for 8 bits is 2^(8−1) = 128).
 * Activations stay float32 (`accuracyLevel` 0) or are quantized on the fly by ORT (4: int8 compute).
 * Embedding lookups (Gather) keep their float32 tables.
 */
import { attr, type Graph, type Initializer, type Node, type Tensor } from '../onnx/builder';

export interface QuantizeOptions {
  /** Inputs per scale; a power of two ≥ 16. */
  blockSize?: number;
  /** MatMulNBits accuracy_level: 0 computes in float32 from dequantized weights, 4 in int8. */
  accuracyLevel?: 0 | 1 | 2 | 3 | 4;
  /** Weights smaller than this many elements stay float32. */
  minElements?: number;
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
  const initOf = (t: Tensor | null): Initializer | undefined => (t ? g.initializers.get(t.name) : undefined);
  let count = 0;
  for (let i = 0; i < g.nodes.length; i++) {
    const node = g.nodes[i];
    const [a, b] = node.inputs;
    const w = initOf(b);
    if (!a || !w || !(w.data instanceof Float32Array) || w.tensor.rank !== 2) continue;
    let transposed: boolean; // true: the weight is stored [N, K]; false: [K, N]
    if (node.op === 'MatMul') transposed = false;
    else if (
      node.op === 'Gemm' &&
      node.inputs.length === 2 &&
      node.attrs.transB?.kind === 'int' &&
      node.attrs.transB.value === 1 &&
      !node.attrs.transA &&
      !node.attrs.alpha
    )
      transposed = true;
    else continue;
    if (w.data.length < minElements) continue;
    const [d0, d1] = w.tensor.shape as number[];
    const [N, K] = transposed ? [d0, d1] : [d1, d0];
    const data = w.data;
    const { packed, scales, nBlocks } = quantizeRows(
      data,
      N,
      K,
      blockSize,
      transposed ? undefined : (n, k) => data[k * N + n],
    );
    const qB = g.initializer(`${w.tensor.name}.q8`, packed, [N, nBlocks, blockSize], 'uint8');
    const qScales = g.initializer(`${w.tensor.name}.scales`, scales, [N * nBlocks]);
    const replacement: Node = {
      name: g.uniqueName(`${node.name}_q8`),
      op: 'MatMulNBits',
      domain: 'com.microsoft',
      inputs: [a, qB, qScales],
      outputs: node.outputs,
      attrs: {
        K: attr.int(K),
        N: attr.int(N),
        bits: attr.int(8),
        block_size: attr.int(blockSize),
        accuracy_level: attr.int(o.accuracyLevel ?? 0),
      },
    };
    g.nodes[i] = replacement;
    count++;
  }
  // Drop the float32 weights nothing reads any more (a tied embedding stays for its Gather).
  const used = new Set<string>();
  for (const n of g.nodes) for (const t of n.inputs) if (t) used.add(t.name);
  for (const name of [...g.initializers.keys()]) if (!used.has(name)) g.initializers.delete(name);
  return count;
}
