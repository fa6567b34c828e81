/**
 * The optimizer's per-element loops (AdamW update, sum of squares) as a
 * small WebAssembly module with 128-bit SIMD. In plain JavaScript these loops cost ~3 s per
 * step for a 124M-parameter full fine-tune (scalar float64 arithmetic, a sqrt and a divide per
 * element); here they run four lanes at a time in float32, as PyTorch's CPU AdamW does.
 *
 * The module works on four fixed regions of its own memory; callers' arrays are copied through
 * in chunks (a memcpy each way), so parameters can live in ordinary Float32Arrays that
 * onnxruntime reads directly. The binary is assembled below by a small emitter (opcodes from the
 * WebAssembly core and SIMD specifications), each function's comment giving its formula: there is
 * nothing else to build. test/engine/train/adamw.test.ts checks it against float64 references.
 */

/** Elements per region (64 KiB each). */
const CHUNK = 16384;
const REGION_BYTES = CHUNK * 4;
/** Region byte offsets: P (parameters), G (gradients), M, V. */
const P = 0;
const G = REGION_BYTES;
const M = 2 * REGION_BYTES;
const V = 3 * REGION_BYTES;
const PAGES = (4 * REGION_BYTES) / 65536;

// ------------------------------------------------------------------------------ a tiny assembler
const I32 = 0x7f;
const F32 = 0x7d;
const F64 = 0x7c;
const V128 = 0x7b;

function uleb(n: number): number[] {
  const out: number[] = [];
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n) b |= 0x80;
    out.push(b);
  } while (n);
  return out;
}

const simd = (op: number) => [0xfd, ...uleb(op)];
const op = {
  get: (i: number) => [0x20, ...uleb(i)],
  set: (i: number) => [0x21, ...uleb(i)],
  tee: (i: number) => [0x22, ...uleb(i)],
  i32: (v: number) => [0x41, ...uleb(v)], // 0 <= v < 64, where signed and unsigned LEB128 agree
  i32Add: [0x6a],
  i32Shl: [0x74],
  i32GeU: [0x4f],
  f64Add: [0xa0],
  load: (offset: number) => [...simd(0x00), 4, ...uleb(offset)], // v128.load align=16
  store: (offset: number) => [...simd(0x0b), 4, ...uleb(offset)],
  splat: simd(0x13), // f32x4.splat
  sqrt: simd(0xe3),
  add: simd(0xe4),
  sub: simd(0xe5),
  mul: simd(0xe6),
  div: simd(0xe7),
  promoteLow: simd(0x5f), // f64x2.promote_low_f32x4
  f64x2Add: simd(0xf0),
  f64x2Mul: simd(0xf2),
  extract: (lane: number) => [...simd(0x21), lane], // f64x2.extract_lane
  highToLow: [...simd(0x0d), 8, 9, 10, 11, 12, 13, 14, 15, 8, 9, 10, 11, 12, 13, 14, 15], // i8x16.shuffle
};

/**
 * `for (i = 0; i < n*4; i += step) body` with `n` in local 0 and the byte index in local `i`;
 * local `end` holds n*4.
 */
// prettier-ignore
function loop(i: number, end: number, body: number[], step = 16): number[] {
  return [
    ...op.get(0), ...op.i32(2), ...op.i32Shl, ...op.set(end),
    ...op.i32(0), ...op.set(i),
    0x02, 0x40, // block
    0x03, 0x40, //   loop
    ...op.get(i), ...op.get(end), ...op.i32GeU, 0x0d, 1, // br_if 1 (i >= end)
    ...body,
    ...op.get(i), ...op.i32(step), ...op.i32Add, ...op.set(i),
    0x0c, 0, // br 0
    0x0b, // end loop
    0x0b, // end block
  ];
}

function funcBody(locals: [count: number, type: number][], code: number[]): number[] {
  const decl = [...uleb(locals.length), ...locals.flatMap(([n, t]) => [...uleb(n), t])];
  const body = [...decl, ...code, 0x0b];
  return [...uleb(body.length), ...body];
}

/**
 * adamw(n, gradScale, beta1, 1-beta1, beta2, 1-beta2, stepSize, 1/sqrt(c2), eps, decay):
 *   g = G·gradScale; M = beta1·M + (1-beta1)·g; V = beta2·V + (1-beta2)·g²;
 *   P = P·decay − stepSize·M / (sqrt(V)·(1/sqrt(c2)) + eps)
 * Locals: 0 n, 1..9 the f32 constants, 10 i, 11 end, 12..20 splatted constants, 21 g, 22 m, 23 v.
 */
// prettier-ignore
function adamwBody(): number[] {
  const splats = Array.from({ length: 9 }, (_, k) => [...op.get(1 + k), ...op.splat, ...op.set(12 + k)]).flat();
  const [gs, b1, a1, b2, a2, ss, isc, eps, dec] = Array.from({ length: 9 }, (_, k) => op.get(12 + k));
  const i = op.get(10);
  const body = [
    ...i, ...op.load(G), ...gs, ...op.mul, ...op.set(21), // g
    ...i, // address for the M store
    ...b1, ...i, ...op.load(M), ...op.mul, ...a1, ...op.get(21), ...op.mul, ...op.add, ...op.tee(22),
    ...op.store(M),
    ...i, // address for the V store
    ...b2, ...i, ...op.load(V), ...op.mul, ...a2, ...op.get(21), ...op.get(21), ...op.mul, ...op.mul, ...op.add,
    ...op.tee(23),
    ...op.store(V),
    ...i, // address for the P store
    ...i, ...op.load(P), ...dec, ...op.mul,
    ...ss, ...op.get(22), ...op.mul,
    ...op.get(23), ...op.sqrt, ...isc, ...op.mul, ...eps, ...op.add,
    ...op.div, ...op.sub,
    ...op.store(P),
  ];
  return funcBody([[2, I32], [12, V128]], [...splats, ...loop(10, 11, body)]);
}

/**
 * Adds the squares of one half of the f32x4 in local `x` (the high half with `high`), promoted to
 * f64 in local `half`, to the f64x2 in local `acc`.
 */
// prettier-ignore
function addHalfSquares(x: number, half: number, acc: number, high: boolean): number[] {
  const lanes = high ? [...op.get(x), ...op.get(x), ...op.highToLow] : op.get(x);
  return [
    ...op.get(acc), ...lanes, ...op.promoteLow, ...op.tee(half), ...op.get(half), ...op.f64x2Mul,
    ...op.f64x2Add, ...op.set(acc),
  ];
}

/**
 * sumSquares(n): Σ P² (float64), eight lanes a turn into four accumulators (locals 5-8), so no
 * addition waits on the one before: one accumulator took 63 ms for gpt2-small's 124M gradients,
 * most of it waiting. Lanes up to the next multiple of 8 must be zero (`put`).
 * Locals: 0 n, 1 i, 2 end, 3 x, 4 half, 5-8 the accumulators.
 */
// prettier-ignore
function sumSquaresBody(): number[] {
  const body = [
    ...op.get(1), ...op.load(P), ...op.set(3),
    ...addHalfSquares(3, 4, 5, false), ...addHalfSquares(3, 4, 6, true),
    ...op.get(1), ...op.load(P + 16), ...op.set(3),
    ...addHalfSquares(3, 4, 7, false), ...addHalfSquares(3, 4, 8, true),
  ];
  const total = [...op.get(5), ...op.get(6), ...op.f64x2Add, ...op.get(7), ...op.get(8), ...op.f64x2Add, ...op.f64x2Add];
  const sum = [...total, ...op.set(5), ...op.get(5), ...op.extract(0), ...op.get(5), ...op.extract(1), ...op.f64Add];
  return funcBody([[2, I32], [6, V128]], [...loop(1, 2, body, 32), ...sum]);
}

function section(id: number, content: number[]): number[] {
  return [id, ...uleb(content.length), ...content];
}

const vec = (items: number[][]) => [...uleb(items.length), ...items.flat()];
const name = (s: string) => [...uleb(s.length), ...Buffer.from(s, 'utf8')];

function moduleBytes(): Uint8Array<ArrayBuffer> {
  const types = vec([
    [0x60, ...vec([[I32], ...Array.from({ length: 9 }, () => [F32])]), ...vec([])],
    [0x60, ...vec([[I32]]), ...vec([[F64]])],
  ]);
  const exports = vec([
    [...name('memory'), 0x02, 0],
    [...name('adamw'), 0x00, 0],
    [...name('sumSquares'), 0x00, 1],
  ]);
  return Uint8Array.from([
    ...[0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00],
    ...section(1, types),
    ...section(3, vec([[0], [1]])),
    ...section(5, vec([[0x00, ...uleb(PAGES)]])),
    ...section(7, exports),
    ...section(10, vec([adamwBody(), sumSquaresBody()])),
  ]);
}

// ------------------------------------------------------------------------------------- the API
interface Exports {
  memory: WebAssembly.Memory;
  adamw(n: number, ...constants: number[]): void;
  sumSquares(n: number): number;
}

let instance: { x: Exports; f32: Float32Array } | undefined;

function kernels() {
  if (!instance) {
    const x = new WebAssembly.Instance(new WebAssembly.Module(moduleBytes())).exports as unknown as Exports;
    instance = { x, f32: new Float32Array(x.memory.buffer) };
  }
  return instance;
}

/** Copies `src[from, from+len)` into a region and zeroes the lanes up to the next multiple of 8. */
function put(f32: Float32Array, region: number, src: Float32Array, from: number, len: number): void {
  const at = region / 4;
  f32.set(src.subarray(from, from + len), at);
  const padded = (len + 7) & ~7;
  if (padded > len) f32.fill(0, at + len, at + padded);
}

function take(f32: Float32Array, region: number, dst: Float32Array, from: number, len: number): void {
  dst.set(f32.subarray(region / 4, region / 4 + len), from);
}

export interface AdamWConstants {
  gradScale: number;
  beta1: number;
  beta2: number;
  /** lr / (1 − beta1^t) */
  stepSize: number;
  /** 1 / sqrt(1 − beta2^t) */
  invSqrtC2: number;
  eps: number;
  /** 1 − lr·weightDecay */
  decay: number;
}

/** Calls `fn` for each [from, from + len) chunk of `length` elements that fits a region. */
function eachChunk(length: number, fn: (from: number, len: number) => void): void {
  for (let from = 0; from < length; from += CHUNK) fn(from, Math.min(CHUNK, length - from));
}

/** One AdamW update of `p` (and its moments `m`, `v`) in place from the gradient `g`. */
export function adamwUpdate(
  p: Float32Array,
  g: Float32Array,
  m: Float32Array,
  v: Float32Array,
  c: AdamWConstants,
): void {
  const { x, f32 } = kernels();
  const constants = [
    c.gradScale,
    c.beta1,
    1 - c.beta1,
    c.beta2,
    1 - c.beta2,
    c.stepSize,
    c.invSqrtC2,
    c.eps,
    c.decay,
  ];
  eachChunk(p.length, (from, len) => {
    put(f32, P, p, from, len);
    put(f32, G, g, from, len);
    put(f32, M, m, from, len);
    put(f32, V, v, from, len);
    x.adamw(len, ...constants);
    take(f32, P, p, from, len);
    take(f32, M, m, from, len);
    take(f32, V, v, from, len);
  });
}

/** Σ a² (float64 accumulation). */
export function sumSquares(a: Float32Array): number {
  const { x, f32 } = kernels();
  let sum = 0;
  eachChunk(a.length, (from, len) => {
    put(f32, P, a, from, len);
    sum += x.sumSquares(len);
  });
  return sum;
}
