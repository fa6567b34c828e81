/**
 * Base models the editor can offer, found on disk without any network: local model folders (the
 * user's list and the configured default) and snapshots in Hugging Face hub caches. No vscode import.
 */
import { existsSync, lstatSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { parseHubId, resolveModel } from '../engine/hub/hub';
import { SafetensorsReader } from '../engine/formats/safetensors';
import { SUPPORTED_MODEL_TYPES } from '../engine/models';

export interface ModelEntry {
  /** What the user sees first: a hub id or the folder's name. */
  label: string;
  /** The model folder (a hub snapshot, or a local folder). */
  dir: string;
  origin: 'folder' | 'hub-cache';
  /** Hub id for cached hub models. */
  hubId?: string;
  bytes: number;
  modelType: string | null;
  supported: boolean;
  /** Parameter count from the weight files' headers. */
  parameters: number | null;
}

export function isModelDir(dir: string): boolean {
  return existsSync(join(dir, 'config.json'));
}

function folderBytes(dir: string): number {
  let n = 0;
  for (const name of readdirSync(dir)) {
    try {
      const path = join(dir, name);
      const st = statSync(path); // follows the hub cache's symlinks to blobs
      // A linked folder is counted where it lives: the starter's `onnx -> .` would loop.
      if (st.isDirectory()) n += lstatSync(path).isSymbolicLink() ? 0 : folderBytes(path);
      else n += st.size;
    } catch {
      // a dangling link of an unfinished download
    }
  }
  return n;
}

function readModelType(dir: string): string | null {
  try {
    const t = (JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')) as { model_type?: unknown })
      .model_type;
    return typeof t === 'string' ? t : null;
  } catch {
    return null;
  }
}

/** Parameters from the safetensors headers; null when there are none. */
function parameterCount(dir: string): number | null {
  let total = 0;
  let found = false;
  for (const name of readdirSync(dir).filter((n) => n.endsWith('.safetensors'))) {
    try {
      const r = SafetensorsReader.open(join(dir, name)); // reads the header only
      for (const n of r.names()) total += r.info(n).shape.reduce((a, b) => a * b, 1);
      r.close();
      found = true;
    } catch {
      // not readable: leave the estimate out
    }
  }
  return found ? total : null;
}

export function describeModel(
  dir: string,
  origin: ModelEntry['origin'],
  label: string,
  hubId?: string,
): ModelEntry {
  const modelType = readModelType(dir);
  return {
    label,
    dir,
    origin,
    hubId,
    bytes: folderBytes(dir),
    modelType,
    supported: modelType !== null && SUPPORTED_MODEL_TYPES.includes(modelType),
    parameters: parameterCount(dir),
  };
}

/** Every complete snapshot in a hub cache: `models--org--name/snapshots/<commit>` with a config.json. */
export function cachedHubModels(cacheDir: string): ModelEntry[] {
  if (!existsSync(cacheDir)) return [];
  const out: ModelEntry[] = [];
  for (const repo of readdirSync(cacheDir).filter((n) => n.startsWith('models--'))) {
    const snapshots = join(cacheDir, repo, 'snapshots');
    if (!existsSync(snapshots)) continue;
    const id = repo.slice('models--'.length).split('--').join('/');
    for (const rev of readdirSync(snapshots)) {
      const dir = join(snapshots, rev);
      if (isModelDir(dir)) out.push(describeModel(dir, 'hub-cache', id, id));
    }
  }
  return out;
}

/** The folder of a hub id already in `cacheDir`, without the network; undefined when not there. */
export async function cachedHubModel(id: string, cacheDir: string): Promise<string | undefined> {
  if (!parseHubId(id)) return undefined;
  try {
    return await resolveModel(id, { cacheDir, offline: true });
  } catch {
    return undefined;
  }
}

/** A model setting's value: an existing folder, or a hub id. */
export function isLocalFolder(value: string): boolean {
  try {
    return statSync(value).isDirectory();
  } catch {
    return false;
  }
}
