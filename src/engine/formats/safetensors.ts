// safetensors: u64 LE header length N, N bytes of JSON header, then the raw little-endian data.
// Header: { name: { dtype, shape, data_offsets: [begin, end] }, __metadata__?: { k: string } },
// offsets relative to the start of the data. Spec: https://github.com/huggingface/safetensors
import { closeSync, fstatSync, openSync, readSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { UserError } from '../errors';

export interface TensorInfo {
  name: string;
  dtype: string;
  shape: number[];
  /** Absolute offset of the tensor's first byte in the file. */
  byteOffset: number;
  byteLength: number;
}

/** Bytes per element of every dtype the format defines (we can read the raw bytes of all of them). */
const DTYPE_SIZE: Record<string, number> = {
  F64: 8,
  F32: 4,
  F16: 2,
  BF16: 2,
  I64: 8,
  I32: 4,
  I16: 2,
  I8: 1,
  U64: 8,
  U32: 4,
  U16: 2,
  U8: 1,
  BOOL: 1,
  F8_E4M3: 1,
  F8_E5M2: 1,
};

// Node's readSync/writeSync take at most 2 GiB - 1 per call; stay well under.
const IO_CHUNK = 1 << 30;

// Typed-array views below assume a little-endian host (x86, ARM: every machine Node ships for).

// ---- half-precision conversions (exact: every f16/bf16 value is representable in f32) ----

let f16Table: Float32Array | null = null;

/** f16 bits -> f32 value for all 65536 patterns, built once (faster than bit twiddling per element). */
function f16ToF32Table(): Float32Array {
  if (f16Table) return f16Table;
  const t = new Float32Array(65536);
  for (let h = 0; h < 65536; h++) {
    const sign = h & 0x8000 ? -1 : 1;
    const exp = (h >>> 10) & 0x1f;
    const frac = h & 0x3ff;
    if (exp === 0)
      t[h] = sign * frac * 2 ** -24; // zero and subnormals
    else if (exp === 31) t[h] = frac ? NaN : sign * Infinity;
    else t[h] = sign * (1 + frac / 1024) * 2 ** (exp - 15);
  }
  return (f16Table = t);
}

export function float16BitsToFloat32(bits: Uint16Array): Float32Array {
  const t = f16ToF32Table();
  const out = new Float32Array(bits.length);
  for (let i = 0; i < bits.length; i++) out[i] = t[bits[i]];
  return out;
}

export function bfloat16BitsToFloat32(bits: Uint16Array): Float32Array {
  const out = new Float32Array(bits.length);
  const u = new Uint32Array(out.buffer);
  for (let i = 0; i < bits.length; i++) u[i] = bits[i] << 16;
  return out;
}

/** f32 -> f16 bits, round to nearest even; overflow goes to inf, NaN stays NaN. */
export function float32ToFloat16Bits(values: Float32Array): Uint16Array {
  const out = new Uint16Array(values.length);
  const u = new Uint32Array(values.buffer, values.byteOffset, values.length);
  for (let i = 0; i < values.length; i++) {
    const x = u[i];
    const sign = (x >>> 16) & 0x8000;
    const exp = (x >>> 23) & 0xff;
    let mant = x & 0x7fffff;
    if (exp === 0xff) {
      out[i] = sign | 0x7c00 | (mant ? 0x200 : 0);
      continue;
    }
    const e = exp - 127 + 15;
    if (e >= 31) {
      out[i] = sign | 0x7c00;
    } else if (e <= 0) {
      // Subnormal (or zero) in f16: shift the mantissa with its implicit 1, rounding to nearest even.
      if (e < -10) {
        out[i] = sign;
        continue;
      }
      mant |= 0x800000;
      const shift = 14 - e;
      const half = 1 << (shift - 1);
      const rest = mant & ((1 << shift) - 1);
      let m = mant >>> shift;
      if (rest > half || (rest === half && m & 1)) m++;
      out[i] = sign | m;
    } else {
      const rest = mant & 0x1fff;
      let h = (e << 10) | (mant >>> 13);
      if (rest > 0x1000 || (rest === 0x1000 && h & 1)) h++; // a carry into the exponent is still correct
      out[i] = sign | h;
    }
  }
  return out;
}

/** f32 -> bf16 bits, round to nearest even; NaN stays NaN. */
export function float32ToBfloat16Bits(values: Float32Array): Uint16Array {
  const out = new Uint16Array(values.length);
  const u = new Uint32Array(values.buffer, values.byteOffset, values.length);
  for (let i = 0; i < values.length; i++) {
    const x = u[i];
    if ((x & 0x7f800000) === 0x7f800000 && x & 0x7fffff) {
      out[i] = (x >>> 16) | 0x40; // keep it a (quiet) NaN even if the payload sat in the low bits
      continue;
    }
    out[i] = (x + 0x7fff + ((x >>> 16) & 1)) >>> 16;
  }
  return out;
}

// ---- reading ----

function fail(path: string, what: string): never {
  throw new UserError(`${path}: ${what}`);
}

function readFully(fd: number, into: Uint8Array, position: number, path: string, name: string): void {
  let done = 0;
  while (done < into.length) {
    const n = readSync(fd, into, done, Math.min(IO_CHUNK, into.length - done), position + done);
    if (n === 0)
      fail(path, `tensor "${name}" is truncated (file ends early); re-download or re-save the file`);
    done += n;
  }
}

export class SafetensorsReader {
  readonly metadata: Record<string, string>;
  private readonly tensors: Map<string, TensorInfo>;
  private fd: number | null;

  private constructor(
    readonly path: string,
    fd: number,
    tensors: Map<string, TensorInfo>,
    metadata: Record<string, string>,
  ) {
    this.fd = fd;
    this.tensors = tensors;
    this.metadata = metadata;
  }

  /** Opens the file and validates the whole header against the file size; data is read lazily. */
  static open(path: string): SafetensorsReader {
    let fd: number;
    try {
      fd = openSync(path, 'r');
    } catch (err) {
      throw new UserError(
        `${path}: cannot open safetensors file (${(err as NodeJS.ErrnoException).code ?? err})`,
      );
    }
    try {
      if (fstatSync(fd).isDirectory()) fail(path, 'is a folder, not a safetensors file');
      const { tensors, metadata } = parseHeader(fd, path);
      return new SafetensorsReader(path, fd, tensors, metadata);
    } catch (err) {
      closeSync(fd);
      throw err;
    }
  }

  names(): string[] {
    return [...this.tensors.keys()];
  }

  has(name: string): boolean {
    return this.tensors.has(name);
  }

  info(name: string): TensorInfo {
    const t = this.tensors.get(name);
    if (t) return t;
    const some = this.names().slice(0, 5);
    const more = this.tensors.size > some.length ? `, … (${this.tensors.size} in all)` : '';
    fail(
      this.path,
      `no tensor named "${name}"; it has ${some.map((n) => `"${n}"`).join(', ') || 'no tensors'}${more}. ` +
        `Check the model family or the file`,
    );
  }

  /** The tensor's bytes as stored (little-endian), in a fresh buffer. */
  readRaw(name: string): Uint8Array {
    const t = this.info(name);
    if (this.fd === null) throw new Error(`${this.path}: reader is closed`);
    // A fresh ArrayBuffer (not Buffer's shared pool) so typed views on it are aligned.
    const bytes = new Uint8Array(new ArrayBuffer(t.byteLength));
    readFully(this.fd, bytes, t.byteOffset, this.path, name);
    return bytes;
  }

  /** The tensor as f32; F16, BF16 and F64 are converted (f16/bf16 exactly). */
  readFloat32(name: string): Float32Array {
    const t = this.info(name);
    if (!['F32', 'F16', 'BF16', 'F64'].includes(t.dtype)) {
      fail(
        this.path,
        `tensor "${name}" has dtype ${t.dtype}; expected a float tensor (F32, F16, BF16 or F64)`,
      );
    }
    const raw = this.readRaw(name);
    switch (t.dtype) {
      case 'F32':
        return new Float32Array(raw.buffer, 0, raw.length / 4);
      case 'F16':
        return float16BitsToFloat32(new Uint16Array(raw.buffer, 0, raw.length / 2));
      case 'BF16':
        return bfloat16BitsToFloat32(new Uint16Array(raw.buffer, 0, raw.length / 2));
      default:
        return Float32Array.from(new Float64Array(raw.buffer, 0, raw.length / 8));
    }
  }

  close(): void {
    if (this.fd !== null) closeSync(this.fd);
    this.fd = null;
  }
}

function parseHeader(
  fd: number,
  path: string,
): { tensors: Map<string, TensorInfo>; metadata: Record<string, string> } {
  const fileSize = fstatSync(fd).size;
  const badFile = 'is not a valid safetensors file';
  if (fileSize < 8) fail(path, `${badFile}: only ${fileSize} bytes, shorter than the 8-byte header length`);
  const lenBytes = new Uint8Array(8);
  readSync(fd, lenBytes, 0, 8, 0);
  const headerLen = new DataView(lenBytes.buffer).getBigUint64(0, true);
  if (headerLen > BigInt(fileSize - 8)) {
    fail(path, `${badFile}: header length ${headerLen} runs past the end of the ${fileSize}-byte file`);
  }
  const n = Number(headerLen);
  const headerBytes = new Uint8Array(n);
  readSync(fd, headerBytes, 0, n, 8);
  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(headerBytes));
  } catch {
    fail(path, `${badFile}: the header is not valid JSON`);
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) {
    fail(path, `${badFile}: the header is not a JSON object`);
  }

  const dataStart = 8 + n;
  const dataSize = fileSize - dataStart;
  const tensors = new Map<string, TensorInfo>();
  const metadata: Record<string, string> = {};
  for (const [name, entry] of Object.entries(header as Record<string, unknown>)) {
    if (name === '__metadata__') {
      if (typeof entry !== 'object' || entry === null)
        fail(path, `${badFile}: __metadata__ is not an object`);
      for (const [k, v] of Object.entries(entry)) metadata[k] = typeof v === 'string' ? v : JSON.stringify(v);
      continue;
    }
    const where = `tensor "${name}"`;
    const e = entry as { dtype?: unknown; shape?: unknown; data_offsets?: unknown } | null;
    if (typeof e !== 'object' || e === null)
      fail(path, `${badFile}: ${where} has no dtype/shape/data_offsets`);
    const { dtype, shape, data_offsets: offsets } = e;
    if (typeof dtype !== 'string' || !(dtype in DTYPE_SIZE)) {
      fail(
        path,
        `${where} has unsupported dtype ${JSON.stringify(dtype)}; convert the file to F32, F16 or BF16`,
      );
    }
    if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
      fail(path, `${badFile}: ${where} has an invalid shape ${JSON.stringify(shape)}`);
    }
    if (
      !Array.isArray(offsets) ||
      offsets.length !== 2 ||
      !offsets.every((o) => Number.isSafeInteger(o) && o >= 0) ||
      offsets[0] > offsets[1]
    ) {
      fail(path, `${badFile}: ${where} has invalid data_offsets ${JSON.stringify(offsets)}`);
    }
    const [begin, end] = offsets as [number, number];
    const expected = (shape as number[]).reduce((a, d) => a * d, 1) * DTYPE_SIZE[dtype];
    if (end - begin !== expected) {
      fail(
        path,
        `${badFile}: ${where} spans ${end - begin} bytes but shape ${JSON.stringify(shape)} of ${dtype} needs ${expected}`,
      );
    }
    if (end > dataSize) {
      fail(
        path,
        `${where} ends at data byte ${end} but the file holds only ${dataSize} data bytes (truncated?); ` +
          `re-download or re-save the file`,
      );
    }
    tensors.set(name, {
      name,
      dtype,
      shape: shape as number[],
      byteOffset: dataStart + begin,
      byteLength: expected,
    });
  }
  return { tensors, metadata };
}

// ---- writing ----

export type WritableTensor = {
  dtype: 'F32' | 'F16' | 'BF16' | 'I64' | 'I32' | 'U8' | 'I8';
  shape: number[];
  /** F16/BF16 take their raw bits (Uint16Array) or f32 values, rounded to nearest even. */
  data: Float32Array | Uint16Array | BigInt64Array | Int32Array | Uint8Array | Int8Array;
};

const WRITE_ARRAY: Record<
  WritableTensor['dtype'],
  { name: string; ok: (d: WritableTensor['data']) => boolean }
> = {
  F32: { name: 'Float32Array', ok: (d) => d instanceof Float32Array },
  F16: {
    name: 'Uint16Array or Float32Array',
    ok: (d) => d instanceof Uint16Array || d instanceof Float32Array,
  },
  BF16: {
    name: 'Uint16Array or Float32Array',
    ok: (d) => d instanceof Uint16Array || d instanceof Float32Array,
  },
  I64: { name: 'BigInt64Array', ok: (d) => d instanceof BigInt64Array },
  I32: { name: 'Int32Array', ok: (d) => d instanceof Int32Array },
  U8: { name: 'Uint8Array', ok: (d) => d instanceof Uint8Array },
  I8: { name: 'Int8Array', ok: (d) => d instanceof Int8Array },
};

/** The bytes to store for one tensor, after checking dtype, array type and shape agree. */
function tensorBytes(path: string, name: string, t: WritableTensor): Uint8Array {
  const spec = WRITE_ARRAY[t.dtype];
  if (!spec) fail(path, `cannot write tensor "${name}": unsupported dtype ${JSON.stringify(t.dtype)}`);
  if (!spec.ok(t.data)) {
    fail(
      path,
      `cannot write tensor "${name}": dtype ${t.dtype} needs a ${spec.name}, got ${t.data.constructor.name}`,
    );
  }
  if (!t.shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
    fail(path, `cannot write tensor "${name}": invalid shape ${JSON.stringify(t.shape)}`);
  }
  const count = t.shape.reduce((a, d) => a * d, 1);
  if (count !== t.data.length) {
    fail(
      path,
      `cannot write tensor "${name}": shape ${JSON.stringify(t.shape)} has ${count} elements, data has ${t.data.length}`,
    );
  }
  let data = t.data;
  if (data instanceof Float32Array && t.dtype === 'F16') data = float32ToFloat16Bits(data);
  if (data instanceof Float32Array && t.dtype === 'BF16') data = float32ToBfloat16Bits(data);
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}

function writeFully(fd: number, bytes: Uint8Array): void {
  let done = 0;
  while (done < bytes.length) done += writeSync(fd, bytes, done, Math.min(IO_CHUNK, bytes.length - done));
}

/**
 * Writes tensors (in name order) to `path`, through a temp file renamed into place,
 * so a crash never leaves a half-written file.
 */
export function writeSafetensors(
  path: string,
  tensors: Record<string, WritableTensor>,
  metadata?: Record<string, string>,
): void {
  const names = Object.keys(tensors).sort();
  const header: Record<string, unknown> = {};
  if (metadata && Object.keys(metadata).length > 0) {
    for (const [k, v] of Object.entries(metadata)) {
      if (typeof v !== 'string') fail(path, `cannot write metadata "${k}": values must be strings`);
    }
    header.__metadata__ = metadata;
  }
  const blobs: Uint8Array[] = [];
  let offset = 0;
  for (const name of names) {
    if (name === '__metadata__') fail(path, `cannot write a tensor named "__metadata__" (reserved)`);
    const t = tensors[name];
    const bytes = tensorBytes(path, name, t);
    header[name] = { dtype: t.dtype, shape: t.shape, data_offsets: [offset, offset + bytes.length] };
    blobs.push(bytes);
    offset += bytes.length;
  }
  // The spec allows trailing spaces in the header; padding to 8 keeps the data 8-byte aligned.
  let json = Buffer.from(JSON.stringify(header), 'utf8');
  const pad = (8 - (json.length % 8)) % 8;
  if (pad) json = Buffer.concat([json, Buffer.alloc(pad, 0x20)]);
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(json.length));

  const tmp = `${path}.tmp-${process.pid}`;
  const fd = openSync(tmp, 'w');
  try {
    try {
      writeFully(fd, len);
      writeFully(fd, json);
      for (const b of blobs) writeFully(fd, b);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, path);
  } catch (err) {
    unlinkSync(tmp);
    throw err;
  }
}
