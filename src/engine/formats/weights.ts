/**
 * A model folder's weights, read tensor by tensor as float32 (never a whole file at once):
 * `model.safetensors`, or shards listed by `model.safetensors.index.json` (its `weight_map` maps each
 * tensor name to its shard file). F16, BF16 and F64 tensors are converted to f32 by the reader.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { UserError } from '../errors';
import { SafetensorsReader } from './safetensors';

export interface WeightSource {
  /** A weight by its Hugging Face name, as float32. */
  read(name: string): { data: Float32Array; shape: number[] };
  /** A tensor's shape (and more) without reading its data, where the source can. */
  header?(name: string): Pick<TensorHeader, 'shape'> | undefined;
}

const SINGLE = 'model.safetensors';
const INDEX = 'model.safetensors.index.json';
const PICKLES = ['pytorch_model.bin', 'pytorch_model.bin.index.json'];

export interface ModelWeights extends WeightSource {
  /** Every tensor name the folder holds. */
  names(): string[];
  /** A tensor's dtype, shape and file from the header alone (no data read); undefined when absent. */
  header(name: string): TensorHeader | undefined;
  close(): void;
}

export interface TensorHeader {
  dtype: string;
  shape: number[];
  file: string;
}

export function openWeights(dir: string): ModelWeights {
  if (existsSync(join(dir, SINGLE))) return openSingle(join(dir, SINGLE));
  if (existsSync(join(dir, INDEX))) return openSharded(dir);
  const pickle = PICKLES.find((f) => existsSync(join(dir, f)));
  if (pickle)
    throw new UserError(
      `${dir}: only a pickle checkpoint (${pickle}) is present; LocalTune never runs pickled code — use a revision with model.safetensors`,
    );
  throw new UserError(`${dir}: no model.safetensors or ${INDEX} found`);
}

function openSingle(file: string): ModelWeights {
  const reader = SafetensorsReader.open(file);
  return {
    read: (name) => ({ data: reader.readFloat32(name), shape: reader.info(name).shape }),
    names: () => reader.names(),
    header: (name) => (reader.has(name) ? headerOf(reader, name, file) : undefined),
    close: () => reader.close(),
  };
}

/** Tensor name → shard file, from the index, checked before any shard is opened. */
function readWeightMap(indexFile: string): Map<string, string> {
  let index: unknown;
  try {
    index = JSON.parse(readFileSync(indexFile, 'utf8'));
  } catch (err) {
    throw new UserError(`${indexFile}: not valid JSON (${(err as Error).message})`);
  }
  const map = (index as { weight_map?: unknown } | null)?.weight_map;
  if (!map || typeof map !== 'object' || Array.isArray(map))
    throw new UserError(`${indexFile}: no "weight_map" object (tensor name → shard file)`);
  const out = new Map<string, string>();
  for (const [name, shard] of Object.entries(map)) {
    // A shard is a file beside the index: no folders, so a crafted index cannot reach outside.
    if (typeof shard !== 'string' || !/^[^/\\]+\.safetensors$/.test(shard))
      throw new UserError(
        `${indexFile}: tensor "${name}" maps to ${JSON.stringify(shard)}; expected a *.safetensors file beside the index`,
      );
    out.set(name, shard);
  }
  return out;
}

function openSharded(dir: string): ModelWeights {
  const indexFile = join(dir, INDEX);
  const weightMap = readWeightMap(indexFile);
  const shards = [...new Set(weightMap.values())];
  const missing = shards.filter((s) => !existsSync(join(dir, s)));
  if (missing.length)
    throw new UserError(
      `${dir}: shard ${missing.map((s) => `"${s}"`).join(', ')} listed in ${INDEX} is missing; re-download the model`,
    );
  const readers = new Map<string, SafetensorsReader>();
  try {
    for (const s of shards) readers.set(s, SafetensorsReader.open(join(dir, s)));
  } catch (err) {
    for (const r of readers.values()) r.close();
    throw err;
  }
  const readerFor = (name: string): SafetensorsReader => {
    const shard = weightMap.get(name);
    if (shard === undefined)
      throw new UserError(
        `${indexFile}: no tensor named "${name}" in weight_map (${weightMap.size} tensors); check the model family or the files`,
      );
    return readers.get(shard)!;
  };
  return {
    read: (name) => {
      const reader = readerFor(name);
      return { data: reader.readFloat32(name), shape: reader.info(name).shape };
    },
    names: () => [...weightMap.keys()],
    header: (name) => {
      const shard = weightMap.get(name);
      const reader = shard === undefined ? undefined : readers.get(shard)!;
      if (!reader?.has(name)) return undefined;
      return headerOf(reader, name, join(dir, shard!));
    },
    close: () => {
      for (const r of readers.values()) r.close();
    },
  };
}

function headerOf(reader: SafetensorsReader, name: string, file: string): TensorHeader {
  const { dtype, shape } = reader.info(name);
  return { dtype, shape, file };
}
