/**
 * What the Datasets view shows about a dataset folder, read without loading any tokens: the
 * manifest (its totals and its file listing, written by data/build.ts), the dataset's options
 * (dataset.json), whether the workspace changed since the build, and whether its tokenizer is a
 * given model's. No vscode import.
 */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { readDatasetConfig, type DatasetConfig } from '../data/datasetConfig';
import { isDatasetDir, readManifest } from '../data/datasetFiles';
import { skipByName } from '../data/filters';
import { MANIFEST_FILE, type DatasetManifest, type ListedFile } from '../data/manifest';
import { WorkspaceScanner } from '../data/scan';

export type DatasetFile = ListedFile;

export interface DatasetSource {
  path: string;
  kind: DatasetManifest['sources'][number]['kind'];
  documents: number;
  files: DatasetFile[];
}

export interface DatasetInfo {
  dir: string;
  name: string;
  manifest: DatasetManifest;
  /** dataset.json, or undefined for a dataset built before it existed (its manifest says the same). */
  config?: DatasetConfig;
  sources: DatasetSource[];
  /** False for a dataset built before files were listed: the view shows totals and asks to rebuild. */
  listed: boolean;
}

export function datasetsRoot(workspace: string): string {
  return join(workspace, '.localtune', 'datasets');
}

export function listDatasetDirs(workspace: string): string[] {
  const root = datasetsRoot(workspace);
  if (!existsSync(root)) return [];
  return readdirSync(root)
    .map((n) => join(root, n))
    .filter(isDatasetDir)
    .sort();
}

export function readDatasetInfo(dir: string): DatasetInfo {
  const manifest = readManifest(join(dir, MANIFEST_FILE));
  const sources: DatasetSource[] = manifest.sources.map((s) => ({ ...s, files: [] }));
  for (const f of manifest.listing ?? []) sources[f.source]?.files.push(f);
  return {
    dir,
    name: manifest.name,
    manifest,
    config: readDatasetConfig(dir),
    sources,
    listed: manifest.listing !== undefined,
  };
}

/** The dataset's options and sources: its dataset.json, else what its manifest says it was built with. */
export function datasetConfigOf(info: Pick<DatasetInfo, 'manifest' | 'config'>): DatasetConfig {
  if (info.config) return info.config;
  const m = info.manifest;
  return {
    sources: m.sources.map((s) => s.path),
    modelDir: m.tokenizer.modelPath,
    include: m.filters.include,
    exclude: m.filters.exclude,
    fimRate: m.fim.rate,
    spmRate: m.fim.spmRate,
    split: m.split.method,
    valFraction: m.split.valFraction,
    ...(m.csvColumns ? { csvColumns: m.csvColumns } : {}),
  };
}

export interface WorkspaceChanges {
  added: string[];
  removed: string[];
  changed: string[];
}

/**
 * How the sources differ from what the build read: files added, removed, or changed (size or
 * mtime), found by scanning with the dataset's own filters. Empty lists: the dataset is current.
 */
export function workspaceChanges(info: DatasetInfo): WorkspaceChanges {
  const out: WorkspaceChanges = { added: [], removed: [], changed: [] };
  if (!info.listed) return out;
  const config = datasetConfigOf(info);
  info.sources.forEach((source) => {
    // What the build read (or listed by name after reading the name): files with a size.
    const known = new Map(source.files.filter((f) => f.size !== undefined).map((f) => [f.path, f]));
    const seen = (path: string, size: number, mtimeMs: number) => {
      const f = known.get(path);
      if (!f) out.added.push(path);
      else if (f.size !== size || f.mtimeMs !== mtimeMs) out.changed.push(path);
      known.delete(path);
    };
    if (source.kind === 'workspace') {
      if (!existsSync(source.path)) {
        out.removed.push(source.path);
        return;
      }
      const scanner = new WorkspaceScanner(source.path, {
        include: config.include,
        exclude: config.exclude,
        skipDirs: [info.dir],
      });
      for (const f of scanner.files()) {
        // A key file the build only named is listed with its size too; a new one counts as added.
        if (skipByName(f.relPath, f.onPurpose) && !known.has(f.absPath)) continue;
        seen(f.absPath, f.size, f.mtimeMs);
      }
    } else {
      try {
        const st = statSync(source.path);
        seen(source.path, st.size, st.mtimeMs);
      } catch {
        out.removed.push(source.path);
        return;
      }
    }
    out.removed.push(...known.keys());
  });
  return out;
}

export function hasChanges(c: WorkspaceChanges): boolean {
  return c.added.length + c.removed.length + c.changed.length > 0;
}

const shaByFile = new Map<string, { mtimeMs: number; sha: string }>();

/** SHA-256 of a model folder's tokenizer.json (cached by mtime), or undefined without one. */
export function tokenizerSha256(modelDir: string): string | undefined {
  const file = join(modelDir, 'tokenizer.json');
  let mtimeMs: number;
  try {
    mtimeMs = statSync(file).mtimeMs;
  } catch {
    return undefined;
  }
  const hit = shaByFile.get(file);
  if (hit?.mtimeMs === mtimeMs) return hit.sha;
  const sha = createHash('sha256').update(readFileSync(file)).digest('hex');
  shaByFile.set(file, { mtimeMs, sha });
  return sha;
}

/** Whether the dataset's token ids are `modelDir`'s tokenizer's (the same tokenizer.json, wherever it lies). */
export function builtForModel(manifest: DatasetManifest, modelDir: string): boolean {
  return tokenizerSha256(modelDir) === manifest.tokenizer.tokenizerSha256;
}
