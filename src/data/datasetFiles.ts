// Reading a dataset folder, and turning loose text/JSONL files into a token stream, for the trainer.
// A dataset folder: manifest.json, scrub-report.json, and each split's packed stream (Uint32 LE
// token ids, one loss-weight byte per token) as the segment files `manifest.segments` lists in
// order (`train-<16 hex>.ids.u32` + `.weights.u8`); a manifest without `segments` (written before
// streams were segmented) has one file per stream: train.ids.u32, train.weights.u8,
// validation.ids.u32, validation.weights.u8.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { UserError } from '../engine/errors';
import type { Tokenizer } from '../engine/tokenizer/tokenizer';
import { ChatTemplate } from './formats/chat';
import {
  DATASET_FILES,
  MANIFEST_FILE,
  MANIFEST_VERSION,
  type DatasetManifest,
  type StreamSegment,
} from './manifest';
import { fileSamples } from './sources';
import { SampleEncoder } from './tokenize';

/** Token ids packed back to back (each document followed by EOS) and one loss weight (0/1) per token. */
export interface TokenStream {
  ids: Uint32Array;
  weights: Uint8Array;
}

export function isDatasetDir(path: string): boolean {
  try {
    return statSync(path).isDirectory() && existsSync(join(path, MANIFEST_FILE));
  } catch {
    return false;
  }
}

export function readDataset(dir: string): {
  manifest: DatasetManifest;
  train: TokenStream;
  validation: TokenStream;
} {
  if (!isDatasetDir(dir))
    throw new UserError(
      `${dir}: not a dataset folder (no ${MANIFEST_FILE}); build one with \`localtune dataset build\``,
    );
  const manifest = readManifest(join(dir, MANIFEST_FILE));
  if (manifest.segments) {
    return {
      manifest,
      train: readSegments(dir, manifest.segments.train, manifest.tokens.train, 'train'),
      validation: readSegments(dir, manifest.segments.validation, manifest.tokens.validation, 'validation'),
    };
  }
  const train = readStream(dir, DATASET_FILES.trainIds, DATASET_FILES.trainWeights, manifest.tokens.train);
  const validation = readStream(
    dir,
    DATASET_FILES.validationIds,
    DATASET_FILES.validationWeights,
    manifest.tokens.validation,
  );
  return { manifest, train, validation };
}

const REBUILD = 'rebuild it with `localtune dataset build`';

export function readManifest(path: string): DatasetManifest {
  let m: DatasetManifest;
  try {
    m = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new UserError(`${path}: unreadable or not JSON (${(err as Error).message}); ${REBUILD}`);
  }
  if (m?.format !== 'localtune-dataset')
    throw new UserError(`${path}: not a LocalTune dataset manifest; ${REBUILD}`);
  if (m.version !== MANIFEST_VERSION)
    throw new UserError(
      `${path}: dataset format version ${m.version}, this LocalTune reads ${MANIFEST_VERSION}; ${REBUILD}`,
    );
  if (typeof m.tokens?.train !== 'number' || typeof m.tokens?.validation !== 'number')
    throw new UserError(`${path}: no token counts; ${REBUILD}`);
  return m;
}

function readStream(dir: string, idsFile: string, weightsFile: string, expected: number): TokenStream {
  const idsBytes = readBinary(join(dir, idsFile));
  const weights = readBinary(join(dir, weightsFile));
  if (idsBytes.length !== expected * 4)
    throw new UserError(
      `${join(dir, idsFile)}: ${idsBytes.length} bytes, the manifest says ${expected} tokens (${expected * 4} bytes); ${REBUILD}`,
    );
  if (weights.length !== expected)
    throw new UserError(
      `${join(dir, weightsFile)}: ${weights.length} weights for ${expected} tokens; ${REBUILD}`,
    );
  // Copy into an aligned buffer: a Buffer may start at any offset of Node's pool.
  const ids = new Uint32Array(expected);
  new Uint8Array(ids.buffer).set(idsBytes);
  return { ids, weights: new Uint8Array(weights) };
}

function readSegments(dir: string, segments: StreamSegment[], expected: number, split: string): TokenStream {
  const ids = new Uint32Array(expected);
  const weights = new Uint8Array(expected);
  // The manifest's token count rules: an empty split reads no files.
  if (expected === 0) return { ids, weights };
  let at = 0;
  for (const seg of segments) {
    const idsBytes = readBinary(join(dir, seg.ids));
    const weightBytes = readBinary(join(dir, seg.weights));
    if (idsBytes.length !== seg.tokens * 4)
      throw new UserError(
        `${join(dir, seg.ids)}: ${idsBytes.length} bytes, the manifest says ${seg.tokens} tokens (${seg.tokens * 4} bytes); ${REBUILD}`,
      );
    if (weightBytes.length !== seg.tokens)
      throw new UserError(
        `${join(dir, seg.weights)}: ${weightBytes.length} weights for ${seg.tokens} tokens; ${REBUILD}`,
      );
    if (at + seg.tokens > expected) break;
    new Uint8Array(ids.buffer, at * 4, seg.tokens * 4).set(idsBytes);
    weights.set(weightBytes, at);
    at += seg.tokens;
  }
  if (at !== expected || segments.reduce((n, s) => n + s.tokens, 0) !== expected)
    throw new UserError(
      `${dir}: the ${split} segments hold ${segments.reduce((n, s) => n + s.tokens, 0)} tokens, the manifest says ${expected}; ${REBUILD}`,
    );
  return { ids, weights };
}

function readBinary(path: string): Buffer {
  try {
    return readFileSync(path);
  } catch (err) {
    throw new UserError(
      `${path}: missing or unreadable (${(err as NodeJS.ErrnoException).code}); ${REBUILD}`,
    );
  }
}

export interface TokenStreamOptions {
  /** Reported as `file:line: reason` for JSONL lines that are skipped. */
  onWarning?: (message: string) => void;
  /** Model folder whose tokenizer_config.json holds the chat template for `messages` records. */
  modelDir?: string;
  /** Replace secrets with placeholders first (default true). */
  scrub?: boolean;
}

/**
 * Plain text files (one document each) and JSONL files (`text`, `prompt`+`completion`, chat
 * `messages`) to one token stream, without building a dataset folder: the trainer's `--data FILE...`.
 */
export async function tokenStreamFromFiles(
  files: string[],
  tokenizer: Tokenizer,
  opts: TokenStreamOptions = {},
): Promise<TokenStream> {
  if (tokenizer.eosId === null)
    throw new UserError('the tokenizer has no EOS token, so documents cannot be separated');
  const encoder = new SampleEncoder(tokenizer, tokenizer.eosId, tokenizerJsonOf(opts.modelDir));
  const chat = opts.modelDir ? ChatTemplate.fromModelDir(opts.modelDir) : null;
  const ids: number[] = [];
  const weights: number[] = [];
  for (const file of files) {
    for (const doc of fileSamples(file, { chat, scrub: opts.scrub ?? true, onWarning: opts.onWarning })) {
      const enc = encoder.encode(doc.sample);
      for (const id of enc.ids) ids.push(id);
      for (const w of enc.weights) weights.push(w);
    }
  }
  if (ids.length === 0)
    throw new UserError(`${files.join(', ')}: no usable documents; check the warnings above`);
  return { ids: Uint32Array.from(ids), weights: Uint8Array.from(weights) };
}

/** The model folder's tokenizer.json, parsed, when there is one (it enables the pre-token memo). */
function tokenizerJsonOf(modelDir: string | undefined): unknown {
  if (!modelDir) return undefined;
  try {
    return JSON.parse(readFileSync(join(modelDir, 'tokenizer.json'), 'utf8'));
  } catch {
    return undefined;
  }
}
