/**
 * A small typed ONNX graph builder. Tensors carry names, dtypes and partly symbolic shapes;
 * ops are methods that infer output shapes; frozen weights and constants become initializers
 * (ORT pre-packs those); trainable tensors are graph inputs. The autodiff appends its backward
 * nodes to the same graph, so one graph computes loss and gradients.
 */
import { closeSync, openSync, renameSync, writeFileSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import {
  type AttrValue,
  type Dim,
  type DType,
  type NodeProtoData,
  type TensorProtoData,
  concat,
  modelProto,
  ONNX_DTYPE,
} from './proto';
import { broadcastShapes, normAxis, reshapeShape } from './shapes';

export type { Dim, DType } from './proto';
export type NumericArray = Float32Array | Float64Array | BigInt64Array | Int32Array | Uint8Array | Int8Array;

export const OPSET = 18;
const IR_VERSION = 8;

export class Tensor {
  constructor(
    readonly name: string,
    readonly dtype: DType,
    readonly shape: readonly Dim[],
  ) {}
  get rank(): number {
    return this.shape.length;
  }
}

export interface Node {
  readonly name: string;
  readonly op: string;
  readonly domain?: string;
  readonly inputs: readonly (Tensor | null)[];
  readonly outputs: readonly Tensor[];
  readonly attrs: Readonly<Record<string, AttrValue>>;
}

export const attr = {
  int: (value: number): AttrValue => ({ kind: 'int', value }),
  float: (value: number): AttrValue => ({ kind: 'float', value }),
  string: (value: string): AttrValue => ({ kind: 'string', value }),
  ints: (value: readonly number[]): AttrValue => ({ kind: 'ints', value }),
};

function arrayFor(dtype: DType, values: ArrayLike<number>): NumericArray {
  switch (dtype) {
    case 'float32':
      return Float32Array.from(values);
    case 'float64':
      return Float64Array.from(values);
    case 'int64':
      return BigInt64Array.from(Array.from(values, (v) => BigInt(v)));
    case 'int32':
      return Int32Array.from(values);
    case 'bool':
    case 'uint8':
      return Uint8Array.from(values);
    case 'int8':
      return Int8Array.from(values);
    default:
      throw new Error(`constants of dtype ${dtype} are not supported`);
  }
}

function bytesOf(a: NumericArray): Uint8Array {
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
}

export interface Initializer {
  tensor: Tensor;
  data: NumericArray;
  /** Bytes that stay in an existing file (location relative to the model); `data` is then empty. */
  external?: { location: string; offset: number; length: number };
}

export class Graph {
  readonly nodes: Node[] = [];
  readonly inputs: Tensor[] = [];
  readonly outputs: Tensor[] = [];
  readonly initializers = new Map<string, Initializer>();
  private readonly names = new Set<string>();
  private readonly smallConstants = new Map<string, Tensor>();

  constructor(readonly name = 'localtune') {}

  /** A fresh name based on `base` (used as is when free). */
  uniqueName(base: string): string {
    let name = base;
    for (let i = 1; this.names.has(name); i++) name = `${base}_${i}`;
    this.names.add(name);
    return name;
  }

  // ---- graph interface ----------------------------------------------------------------------

  input(name: string, dtype: DType, shape: readonly Dim[]): Tensor {
    if (this.names.has(name)) throw new Error(`duplicate tensor name ${name}`);
    this.names.add(name);
    const t = new Tensor(name, dtype, shape);
    this.inputs.push(t);
    return t;
  }

  /** A frozen tensor stored in the model (weights, constants). */
  initializer(name: string, data: NumericArray, shape: readonly number[], dtype?: DType): Tensor {
    const t = new Tensor(this.uniqueName(name), dtype ?? dtypeOfArray(data), shape);
    const size = shape.reduce((a, b) => a * b, 1);
    if (data.length !== size)
      throw new Error(`initializer ${name}: ${data.length} values for shape [${shape}]`);
    this.initializers.set(t.name, { tensor: t, data });
    return t;
  }

  /**
   * A frozen tensor whose bytes stay where they are, in a file beside the saved model (ONNX
   * external data): e.g. a safetensors file's weights, referenced instead of copied.
   */
  externalInitializer(
    name: string,
    dtype: DType,
    shape: readonly number[],
    external: { location: string; offset: number; length: number },
  ): Tensor {
    const t = new Tensor(this.uniqueName(name), dtype, shape);
    this.initializers.set(t.name, { tensor: t, data: new Uint8Array(0), external });
    return t;
  }

  /** A small constant; identical ones are shared. */
  constant(values: number | ArrayLike<number>, dtype: DType = 'float32', shape?: readonly number[]): Tensor {
    const list = typeof values === 'number' ? [values] : Array.from(values);
    const dims = shape ?? (typeof values === 'number' ? [] : [list.length]);
    const key = `${dtype}|${dims.join(',')}|${list.join(',')}`;
    const cached = list.length <= 64 ? this.smallConstants.get(key) : undefined;
    if (cached) return cached;
    const t = this.initializer('const', arrayFor(dtype, list), dims, dtype);
    if (list.length <= 64) this.smallConstants.set(key, t);
    return t;
  }

  /** A 1-D int64 constant, as ONNX wants for shapes, axes and slice bounds. */
  ints(values: readonly number[]): Tensor {
    return this.constant(values, 'int64', [values.length]);
  }

  output(t: Tensor, name?: string): Tensor {
    const out = name && name !== t.name ? this.identity(t, name) : t;
    this.outputs.push(out);
    return out;
  }

  /**
   * Makes `t`, a tensor one of this graph's nodes makes, an output named `name` by renaming it in
   * place: no Identity node (a copy, and a node per output, in a graph run once per decoded token).
   */
  outputRenamed(t: Tensor, name: string): Tensor {
    if (!this.nodes.some((n) => n.outputs.includes(t)) || this.outputs.includes(t))
      throw new Error(`outputRenamed: ${t.name} is not a node's output, or is already an output`);
    if (this.names.has(name)) throw new Error(`duplicate tensor name ${name}`);
    this.names.add(name);
    (t as { name: string }).name = name; // every node holds the same object, so all see the new name
    this.outputs.push(t);
    return t;
  }

  /** Appends a node. `outs` gives each output's dtype and shape (and optional name). */
  node(
    op: string,
    inputs: readonly (Tensor | null)[],
    outs: readonly { dtype: DType; shape: readonly Dim[]; name?: string }[],
    attrs: Record<string, AttrValue> = {},
    domain?: string,
  ): Tensor[] {
    // An empty name is ONNX's absent optional output: the node need not make it.
    const outputs = outs.map(
      (o) => new Tensor(o.name === '' ? '' : this.uniqueName(o.name ?? op.toLowerCase()), o.dtype, o.shape),
    );
    this.nodes.push({ name: this.uniqueName(`n_${op}`), op, domain, inputs, outputs, attrs });
    return outputs;
  }

  private unary(op: string, x: Tensor, attrs: Record<string, AttrValue> = {}): Tensor {
    return this.node(op, [x], [{ dtype: x.dtype, shape: x.shape }], attrs)[0];
  }

  private binary(op: string, a: Tensor, b: Tensor): Tensor {
    return this.node(op, [a, b], [{ dtype: a.dtype, shape: broadcastShapes(a.shape, b.shape) }])[0];
  }

  private compare(op: string, a: Tensor, b: Tensor): Tensor {
    return this.node(op, [a, b], [{ dtype: 'bool', shape: broadcastShapes(a.shape, b.shape) }])[0];
  }

  // ---- elementwise --------------------------------------------------------------------------

  add(a: Tensor, b: Tensor): Tensor {
    return this.binary('Add', a, b);
  }
  sub(a: Tensor, b: Tensor): Tensor {
    return this.binary('Sub', a, b);
  }
  mul(a: Tensor, b: Tensor): Tensor {
    return this.binary('Mul', a, b);
  }
  div(a: Tensor, b: Tensor): Tensor {
    return this.binary('Div', a, b);
  }
  pow(a: Tensor, b: Tensor): Tensor {
    return this.binary('Pow', a, b);
  }
  neg(x: Tensor): Tensor {
    return this.unary('Neg', x);
  }
  sqrt(x: Tensor): Tensor {
    return this.unary('Sqrt', x);
  }
  exp(x: Tensor): Tensor {
    return this.unary('Exp', x);
  }
  log(x: Tensor): Tensor {
    return this.unary('Log', x);
  }
  tanh(x: Tensor): Tensor {
    return this.unary('Tanh', x);
  }
  erf(x: Tensor): Tensor {
    return this.unary('Erf', x);
  }
  sigmoid(x: Tensor): Tensor {
    return this.unary('Sigmoid', x);
  }
  reciprocal(x: Tensor): Tensor {
    return this.unary('Reciprocal', x);
  }
  identity(x: Tensor, name?: string): Tensor {
    return this.node('Identity', [x], [{ dtype: x.dtype, shape: x.shape, name }])[0];
  }
  cast(x: Tensor, to: DType): Tensor {
    return this.node('Cast', [x], [{ dtype: to, shape: x.shape }], { to: attr.int(ONNX_DTYPE[to]) })[0];
  }
  where(cond: Tensor, a: Tensor, b: Tensor): Tensor {
    const shape = broadcastShapes(cond.shape, broadcastShapes(a.shape, b.shape));
    return this.node('Where', [cond, a, b], [{ dtype: a.dtype, shape }])[0];
  }
  less(a: Tensor, b: Tensor): Tensor {
    return this.compare('Less', a, b);
  }
  lessOrEqual(a: Tensor, b: Tensor): Tensor {
    return this.compare('LessOrEqual', a, b);
  }
  equal(a: Tensor, b: Tensor): Tensor {
    return this.compare('Equal', a, b);
  }

  // ---- linear algebra -----------------------------------------------------------------------

  /** [..., M, K] x [..., K, N] -> [..., M, N] */
  matmul(a: Tensor, b: Tensor): Tensor {
    if (a.rank < 2 || b.rank < 2) throw new Error('matmul wants rank >= 2 operands');
    const batch = broadcastShapes(a.shape.slice(0, -2), b.shape.slice(0, -2));
    const shape = [...batch, a.shape[a.rank - 2], b.shape[b.rank - 1]];
    return this.node('MatMul', [a, b], [{ dtype: a.dtype, shape }])[0];
  }

  /** alpha * op(A) op(B) + beta * C, with A [M,K] (or [K,M] when transA) */
  gemm(
    a: Tensor,
    b: Tensor,
    c: Tensor | null,
    o: { transA?: boolean; transB?: boolean; alpha?: number; beta?: number } = {},
  ): Tensor {
    const m = o.transA ? a.shape[1] : a.shape[0];
    const n = o.transB ? b.shape[0] : b.shape[1];
    const attrs: Record<string, AttrValue> = {};
    if (o.transA) attrs.transA = attr.int(1);
    if (o.transB) attrs.transB = attr.int(1);
    if (o.alpha !== undefined) attrs.alpha = attr.float(o.alpha);
    if (o.beta !== undefined) attrs.beta = attr.float(o.beta);
    return this.node('Gemm', c ? [a, b, c] : [a, b], [{ dtype: a.dtype, shape: [m, n] }], attrs)[0];
  }

  // ---- shape ops ----------------------------------------------------------------------------

  reshape(x: Tensor, spec: readonly number[]): Tensor {
    return this.node(
      'Reshape',
      [x, this.ints(spec)],
      [{ dtype: x.dtype, shape: reshapeShape(x.shape, spec) }],
    )[0];
  }
  /** Reshape to a shape computed at run time (e.g. Shape(other)), with its known static form. */
  reshapeTo(x: Tensor, shapeTensor: Tensor, shape: readonly Dim[]): Tensor {
    return this.node('Reshape', [x, shapeTensor], [{ dtype: x.dtype, shape }])[0];
  }
  transpose(x: Tensor, perm: readonly number[]): Tensor {
    return this.node('Transpose', [x], [{ dtype: x.dtype, shape: perm.map((p) => x.shape[p]) }], {
      perm: attr.ints(perm),
    })[0];
  }
  shapeOf(x: Tensor): Tensor {
    return this.node('Shape', [x], [{ dtype: 'int64', shape: [x.rank] }])[0];
  }
  expand(x: Tensor, shapeTensor: Tensor, shape: readonly Dim[]): Tensor {
    return this.node('Expand', [x, shapeTensor], [{ dtype: x.dtype, shape }])[0];
  }
  unsqueeze(x: Tensor, axes: readonly number[]): Tensor {
    const rank = x.rank + axes.length;
    const norm = axes.map((a) => normAxis(a, rank));
    const shape: Dim[] = [];
    let j = 0;
    for (let i = 0; i < rank; i++) shape.push(norm.includes(i) ? 1 : x.shape[j++]);
    return this.node('Unsqueeze', [x, this.ints(axes)], [{ dtype: x.dtype, shape }])[0];
  }
  squeeze(x: Tensor, axes: readonly number[]): Tensor {
    const norm = axes.map((a) => normAxis(a, x.rank));
    const shape = x.shape.filter((_, i) => !norm.includes(i));
    return this.node('Squeeze', [x, this.ints(axes)], [{ dtype: x.dtype, shape }])[0];
  }
  concat(xs: readonly Tensor[], axis: number): Tensor {
    const ax = normAxis(axis, xs[0].rank);
    const shape = [...xs[0].shape];
    const parts = xs.map((x) => x.shape[ax]);
    shape[ax] = parts.every((p) => typeof p === 'number')
      ? (parts as number[]).reduce((a, b) => a + b, 0)
      : `concat_${ax}`;
    return this.node('Concat', xs, [{ dtype: xs[0].dtype, shape }], { axis: attr.int(axis) })[0];
  }
  split(x: Tensor, sizes: readonly number[], axis: number): Tensor[] {
    const ax = normAxis(axis, x.rank);
    const outs = sizes.map((s) => ({ dtype: x.dtype, shape: x.shape.map((d, i) => (i === ax ? s : d)) }));
    return this.node('Split', [x, this.ints(sizes)], outs, { axis: attr.int(axis) });
  }
  /** Slice with constant bounds along `axes`. */
  slice(
    x: Tensor,
    starts: readonly number[],
    ends: readonly number[],
    axes: readonly number[],
    steps?: readonly number[],
  ): Tensor {
    const shape = [...x.shape];
    axes.forEach((a, i) => {
      const ax = normAxis(a, x.rank);
      const d = x.shape[ax];
      const step = steps?.[i] ?? 1;
      if (typeof d === 'number') {
        const clamp = (v: number) => Math.max(0, Math.min(d, v < 0 ? v + d : v));
        shape[ax] = Math.max(0, Math.ceil((clamp(ends[i]) - clamp(starts[i])) / step));
      } else if (ends[i] >= 0 && starts[i] >= 0 && ends[i] < 2 ** 31) {
        shape[ax] = Math.ceil((ends[i] - starts[i]) / step);
      } else {
        shape[ax] = `slice_${ax}`;
      }
    });
    const inputs = [x, this.ints(starts), this.ints(ends), this.ints(axes)];
    if (steps) inputs.push(this.ints(steps));
    return this.node('Slice', inputs, [{ dtype: x.dtype, shape }])[0];
  }
  /** Slice with run-time bounds (int64 tensors), for dynamic sequence lengths. */
  sliceDynamic(
    x: Tensor,
    starts: Tensor,
    ends: Tensor,
    axes: readonly number[],
    shape: readonly Dim[],
  ): Tensor {
    return this.node('Slice', [x, starts, ends, this.ints(axes)], [{ dtype: x.dtype, shape }])[0];
  }
  gather(data: Tensor, indices: Tensor, axis = 0): Tensor {
    const ax = normAxis(axis, data.rank);
    const shape = [...data.shape.slice(0, ax), ...indices.shape, ...data.shape.slice(ax + 1)];
    return this.node('Gather', [data, indices], [{ dtype: data.dtype, shape }], { axis: attr.int(axis) })[0];
  }
  range(start: Tensor, limit: Tensor, delta: Tensor, length: Dim): Tensor {
    return this.node('Range', [start, limit, delta], [{ dtype: start.dtype, shape: [length] }])[0];
  }

  // ---- reductions and normalisation ---------------------------------------------------------

  private reduce(op: string, x: Tensor, axes: readonly number[], keepdims: boolean): Tensor {
    const norm = axes.map((a) => normAxis(a, x.rank));
    const shape = keepdims
      ? x.shape.map((d, i) => (norm.includes(i) ? 1 : d))
      : x.shape.filter((_, i) => !norm.includes(i));
    return this.node(op, [x, this.ints(axes)], [{ dtype: x.dtype, shape }], {
      keepdims: attr.int(keepdims ? 1 : 0),
    })[0];
  }
  reduceSum(x: Tensor, axes: readonly number[], keepdims = false): Tensor {
    return this.reduce('ReduceSum', x, axes, keepdims);
  }
  reduceMean(x: Tensor, axes: readonly number[], keepdims = false): Tensor {
    return this.reduce('ReduceMean', x, axes, keepdims);
  }
  softmax(x: Tensor, axis = -1): Tensor {
    return this.unary('Softmax', x, { axis: attr.int(axis) });
  }
  logSoftmax(x: Tensor, axis = -1): Tensor {
    return this.unary('LogSoftmax', x, { axis: attr.int(axis) });
  }
  /** LayerNormalization over the last axis (the backward pass recomputes its statistics). */
  layerNorm(x: Tensor, scale: Tensor, bias: Tensor | null, epsilon: number): Tensor {
    return this.node(
      'LayerNormalization',
      bias ? [x, scale, bias] : [x, scale],
      [{ dtype: x.dtype, shape: x.shape }],
      {
        axis: attr.int(-1),
        epsilon: attr.float(epsilon),
      },
    )[0];
  }
  /**
   * Per-row cross-entropy of `scores` [N, C] against `labels` [N] (int64), without reduction.
   * Also returns log-probabilities [N, C], which the backward pass reuses.
   */
  softmaxCrossEntropy(
    scores: Tensor,
    labels: Tensor,
    ignoreIndex?: number,
  ): { loss: Tensor; logProb: Tensor } {
    const attrs: Record<string, AttrValue> = { reduction: attr.string('none') };
    if (ignoreIndex !== undefined) attrs.ignore_index = attr.int(ignoreIndex);
    const [loss, logProb] = this.node(
      'SoftmaxCrossEntropyLoss',
      [scores, labels],
      [
        { dtype: scores.dtype, shape: [scores.shape[0]] },
        { dtype: scores.dtype, shape: scores.shape },
      ],
      attrs,
    );
    return { loss, logProb };
  }

  // ---- serialisation ------------------------------------------------------------------------

  private protoData(external?: (t: Initializer) => TensorProtoData['external']) {
    const initializers: TensorProtoData[] = [...this.initializers.values()].map((i) => {
      const dims = i.tensor.shape as number[];
      const ext = i.external ?? external?.(i);
      return ext
        ? { name: i.tensor.name, dtype: i.tensor.dtype, dims, external: ext }
        : { name: i.tensor.name, dtype: i.tensor.dtype, dims, raw: bytesOf(i.data) };
    });
    const nodes: NodeProtoData[] = this.nodes.map((n) => ({
      name: n.name,
      opType: n.op,
      domain: n.domain,
      inputs: n.inputs.map((t) => t?.name ?? ''),
      outputs: n.outputs.map((t) => t.name),
      attrs: n.attrs,
    }));
    const io = (t: Tensor) => ({ name: t.name, dtype: t.dtype, shape: t.shape });
    const usesMs = this.nodes.some((n) => n.domain === 'com.microsoft');
    return modelProto(
      { name: this.name, nodes, initializers, inputs: this.inputs.map(io), outputs: this.outputs.map(io) },
      {
        opset: OPSET,
        irVersion: IR_VERSION,
        extraOpsets: usesMs ? [{ domain: 'com.microsoft', version: 1 }] : [],
      },
    );
  }

  /** The whole model in memory (weights inline). Fine below protobuf's 2 GB limit. */
  toBytes(): Uint8Array {
    return concat(this.protoData());
  }

  /**
   * Writes `path` and, for initializers of at least `externalMinBytes`, `path + '.data'`
   * (ONNX external data), so models beyond protobuf's 2 GB limit load from disk.
   * `dataFile` names the data file beside `path` instead (transformers.js expects
   * `model.onnx_data` beside `model.onnx`).
   */
  save(path: string, externalMinBytes = 1024 * 1024, o: { dataFile?: string } = {}): void {
    const dataName = o.dataFile ?? `${basename(path)}.data`;
    const dataPath = join(dirname(path), dataName);
    const blobs: Uint8Array[] = [];
    let offset = 0;
    const model = concat(
      this.protoData((i) => {
        if (i.data.byteLength < externalMinBytes) return undefined;
        const ext = { location: dataName, offset, length: i.data.byteLength };
        blobs.push(bytesOf(i.data));
        offset += i.data.byteLength;
        const pad = (64 - (offset % 64)) % 64; // keep tensors aligned for memory mapping
        if (pad) blobs.push(new Uint8Array(pad));
        offset += pad;
        return ext;
      }),
    );
    if (blobs.length) {
      // Written blob by blob: the data may exceed what one Buffer can hold.
      const tmp = `${dataPath}.tmp-${process.pid}`;
      const fd = openSync(tmp, 'w');
      try {
        for (const b of blobs) writeSync(fd, b);
      } finally {
        closeSync(fd);
      }
      renameSync(tmp, dataPath);
    }
    const tmp = `${path}.tmp-${process.pid}`;
    writeFileSync(tmp, model);
    renameSync(tmp, path);
  }
}

function dtypeOfArray(a: NumericArray): DType {
  if (a instanceof Float32Array) return 'float32';
  if (a instanceof Float64Array) return 'float64';
  if (a instanceof BigInt64Array) return 'int64';
  if (a instanceof Int32Array) return 'int32';
  if (a instanceof Int8Array) return 'int8';
  return 'uint8';
}
