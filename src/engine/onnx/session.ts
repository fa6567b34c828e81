/**
 * onnxruntime-node session helpers: one place for thread counts, optimisation level and
 * memory settings, and typed conversion between our arrays and ORT tensors.
 */
import { availableParallelism } from 'node:os';
import type { InferenceSession as OrtSession, Tensor as OrtTensor } from 'onnxruntime-node';
import type { DType, NumericArray } from './builder';
import { collectGarbage } from './collectGarbage';

type Ort = typeof import('onnxruntime-node');
let ortModule: Ort | undefined;

/** Loaded on first use: the native binding costs ~100 ms and is not needed by every command. */
export function ort(): Ort {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  ortModule ??= require('onnxruntime-node') as Ort;
  return ortModule;
}

export interface SessionOptions {
  /** Intra-op threads; defaults to the number of cores. */
  threads?: number;
  optimization?: 'disabled' | 'basic' | 'extended' | 'all';
  /** Execution providers in order of preference, e.g. ['cuda', 'cpu']. */
  providers?: string[];
  /**
   * false: intra-op threads sleep between parallel sections instead of spinning — for background
   * workers sharing the cores with the editor (see generate/decoder.ts for figures). Default true.
   */
  spin?: boolean;
  /** Turns on onnxruntime's profiler, writing `<profile>_<time>.json` when profiling ends. */
  profile?: string;
}

export async function createSession(model: Uint8Array | string, o: SessionOptions = {}): Promise<OrtSession> {
  const options: OrtSession.SessionOptions = {
    intraOpNumThreads: o.threads ?? availableParallelism(),
    interOpNumThreads: 1,
    graphOptimizationLevel: o.optimization ?? 'all',
    executionProviders: o.providers ?? ['cpu'],
    // The arena keeps freed buffers for the next run: re-touching freed memory is slow here.
    enableCpuMemArena: true,
    // No memory pattern: it plans one contiguous block per input shape, which the arena allocates
    // next to the per-tensor chunks of the first run. gpt2-small LoRA, 1024 tokens: peak RSS
    // 5.38 -> 4.03 GB, same speed.
    enableMemPattern: false,
    executionMode: 'sequential',
    ...(o.spin === false ? { extra: { session: { intra_op: { allow_spinning: '0' } } } } : {}),
    ...(o.profile ? { enableProfiling: true, profileFilePrefix: o.profile } : {}),
  };
  const { InferenceSession } = ort();
  return typeof model === 'string'
    ? InferenceSession.create(model, options)
    : InferenceSession.create(model, options);
}

/**
 * A session from a serialized model that nothing else holds: garbage (the graph's weights) is
 * collected before onnxruntime copies them and the bytes after, so the step's activations reuse
 * that memory (collectGarbage.ts). `model.bytes` is emptied.
 */
export async function createSessionReleasing(
  model: { bytes: Uint8Array },
  o: SessionOptions = {},
): Promise<OrtSession> {
  collectGarbage();
  const session = await createSession(model.bytes, o);
  model.bytes = new Uint8Array(0);
  collectGarbage();
  return session;
}

const ORT_TYPE: Partial<Record<DType, OrtTensor.Type>> = {
  float32: 'float32',
  float64: 'float64',
  int64: 'int64',
  int32: 'int32',
  bool: 'bool',
  uint8: 'uint8',
  int8: 'int8',
};

export function toOrt(dtype: DType, data: NumericArray, dims: readonly number[]): OrtTensor {
  const type = ORT_TYPE[dtype];
  if (!type) throw new Error(`no ORT tensor type for ${dtype}`);
  return new (ort().Tensor)(type, data as never, dims);
}

export function float32Of(t: OrtTensor): Float32Array {
  return t.data as Float32Array;
}
