/**
 * A small protobuf encoder for the part of onnx.proto we write (ModelProto and what it holds).
 * Messages are built as lists of byte chunks so that large weights are copied once, into the
 * final buffer. Field numbers follow onnx/onnx.proto (IR version 8).
 */

export type Chunks = { parts: Uint8Array[]; length: number };

function chunks(): Chunks {
  return { parts: [], length: 0 };
}

function push(c: Chunks, bytes: Uint8Array): void {
  c.parts.push(bytes);
  c.length += bytes.length;
}

function varintBytes(value: number | bigint): Uint8Array {
  let v = BigInt.asUintN(64, BigInt(value)); // negative int64 → two's complement, 10 bytes
  const out: number[] = [];
  while (v >= 0x80n) {
    out.push(Number(v & 0x7fn) | 0x80);
    v >>= 7n;
  }
  out.push(Number(v));
  return Uint8Array.from(out);
}

const WIRE_VARINT = 0;
const WIRE_FIXED32 = 5;
const WIRE_LEN = 2;

function tag(field: number, wire: number): Uint8Array {
  return varintBytes((field << 3) | wire);
}

const utf8 = new TextEncoder();

/** Field writers, each appending one encoded field to a message. */
export const field = {
  varint(c: Chunks, f: number, value: number | bigint): void {
    push(c, tag(f, WIRE_VARINT));
    push(c, varintBytes(value));
  },
  float(c: Chunks, f: number, value: number): void {
    push(c, tag(f, WIRE_FIXED32));
    const b = new Uint8Array(4);
    new DataView(b.buffer).setFloat32(0, value, true);
    push(c, b);
  },
  bytes(c: Chunks, f: number, value: Uint8Array): void {
    push(c, tag(f, WIRE_LEN));
    push(c, varintBytes(value.length));
    push(c, value);
  },
  string(c: Chunks, f: number, value: string): void {
    field.bytes(c, f, utf8.encode(value));
  },
  message(c: Chunks, f: number, sub: Chunks): void {
    push(c, tag(f, WIRE_LEN));
    push(c, varintBytes(sub.length));
    for (const p of sub.parts) push(c, p);
  },
  packedVarints(c: Chunks, f: number, values: readonly (number | bigint)[]): void {
    const body = chunks();
    for (const v of values) push(body, varintBytes(v));
    field.message(c, f, body);
  },
  packedFloats(c: Chunks, f: number, values: readonly number[]): void {
    const b = new Uint8Array(values.length * 4);
    const dv = new DataView(b.buffer);
    values.forEach((v, i) => dv.setFloat32(i * 4, v, true));
    field.bytes(c, f, b);
  },
};

export function concat(c: Chunks): Uint8Array {
  const out = new Uint8Array(c.length);
  let offset = 0;
  for (const p of c.parts) {
    out.set(p, offset);
    offset += p.length;
  }
  return out;
}

// ---- ONNX messages -------------------------------------------------------------------------

/** TensorProto.DataType values. */
export const ONNX_DTYPE = {
  float32: 1,
  uint8: 2,
  int8: 3,
  int32: 6,
  int64: 7,
  bool: 9,
  float16: 10,
  float64: 11,
} as const;
export type DType = keyof typeof ONNX_DTYPE;

export type Dim = number | string;

export interface TensorProtoData {
  name: string;
  dtype: DType;
  dims: readonly number[];
  /** Raw little-endian bytes, or an external location (file relative to the model, offset, length). */
  raw?: Uint8Array;
  external?: { location: string; offset: number; length: number };
}

export function tensorProto(t: TensorProtoData): Chunks {
  const c = chunks();
  for (const d of t.dims) field.varint(c, 1, d);
  field.varint(c, 2, ONNX_DTYPE[t.dtype]);
  field.string(c, 8, t.name);
  if (t.external) {
    const entry = (key: string, value: string) => {
      const e = chunks();
      field.string(e, 1, key);
      field.string(e, 2, value);
      field.message(c, 13, e);
    };
    entry('location', t.external.location);
    entry('offset', String(t.external.offset));
    entry('length', String(t.external.length));
    field.varint(c, 14, 1); // data_location = EXTERNAL
  } else {
    field.bytes(c, 9, t.raw ?? new Uint8Array(0));
  }
  return c;
}

export function valueInfoProto(name: string, dtype: DType, shape: readonly Dim[]): Chunks {
  const shapeMsg = chunks();
  for (const d of shape) {
    const dim = chunks();
    if (typeof d === 'number') field.varint(dim, 1, d);
    else field.string(dim, 2, d);
    field.message(shapeMsg, 1, dim);
  }
  const tensorType = chunks();
  field.varint(tensorType, 1, ONNX_DTYPE[dtype]);
  field.message(tensorType, 2, shapeMsg);
  const typeMsg = chunks();
  field.message(typeMsg, 1, tensorType);
  const c = chunks();
  field.string(c, 1, name);
  field.message(c, 2, typeMsg);
  return c;
}

export type AttrValue =
  | { kind: 'int'; value: number }
  | { kind: 'float'; value: number }
  | { kind: 'string'; value: string }
  | { kind: 'ints'; value: readonly number[] }
  | { kind: 'floats'; value: readonly number[] }
  | { kind: 'tensor'; value: TensorProtoData };

const ATTR_TYPE = { float: 1, int: 2, string: 3, tensor: 4, floats: 6, ints: 7 } as const;

export function attributeProto(name: string, a: AttrValue): Chunks {
  const c = chunks();
  field.string(c, 1, name);
  switch (a.kind) {
    case 'float':
      field.float(c, 2, a.value);
      break;
    case 'int':
      field.varint(c, 3, a.value);
      break;
    case 'string':
      field.string(c, 4, a.value);
      break;
    case 'tensor':
      field.message(c, 5, tensorProto(a.value));
      break;
    case 'floats':
      field.packedFloats(c, 7, a.value);
      break;
    case 'ints':
      field.packedVarints(c, 8, a.value);
      break;
  }
  field.varint(c, 20, ATTR_TYPE[a.kind]);
  return c;
}

export interface NodeProtoData {
  name: string;
  opType: string;
  domain?: string;
  inputs: readonly string[];
  outputs: readonly string[];
  attrs: Readonly<Record<string, AttrValue>>;
}

export function nodeProto(n: NodeProtoData): Chunks {
  const c = chunks();
  for (const i of n.inputs) field.string(c, 1, i);
  for (const o of n.outputs) field.string(c, 2, o);
  field.string(c, 3, n.name);
  field.string(c, 4, n.opType);
  for (const [k, v] of Object.entries(n.attrs)) field.message(c, 5, attributeProto(k, v));
  if (n.domain) field.string(c, 7, n.domain);
  return c;
}

export interface GraphProtoData {
  name: string;
  nodes: readonly NodeProtoData[];
  initializers: readonly TensorProtoData[];
  inputs: readonly { name: string; dtype: DType; shape: readonly Dim[] }[];
  outputs: readonly { name: string; dtype: DType; shape: readonly Dim[] }[];
}

export function modelProto(
  g: GraphProtoData,
  opts: { opset: number; irVersion: number; extraOpsets?: { domain: string; version: number }[] },
): Chunks {
  const graph = chunks();
  for (const n of g.nodes) field.message(graph, 1, nodeProto(n));
  field.string(graph, 2, g.name);
  for (const t of g.initializers) field.message(graph, 5, tensorProto(t));
  for (const i of g.inputs) field.message(graph, 11, valueInfoProto(i.name, i.dtype, i.shape));
  for (const o of g.outputs) field.message(graph, 12, valueInfoProto(o.name, o.dtype, o.shape));

  const model = chunks();
  field.varint(model, 1, opts.irVersion);
  field.string(model, 2, 'localtune');
  field.string(model, 3, '0.1');
  field.message(model, 7, graph);
  const opsets = [{ domain: '', version: opts.opset }, ...(opts.extraOpsets ?? [])];
  for (const o of opsets) {
    const os = chunks();
    field.string(os, 1, o.domain);
    field.varint(os, 2, o.version);
    field.message(model, 8, os);
  }
  return model;
}
