/**
 * What the Datasets view shows about a dataset folder, read without loading any tokens:
 * manifest.json for the totals, and the build cache's index (`cache/index.json`, written by
 * data/build.ts) for each file's token count, skip reason and scrub findings. No vscode import.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { isDatasetDir, readManifest } from '../data/datasetFiles';
import { MANIFEST_FILE, type DatasetManifest } from '../data/manifest';
import type { ScrubFinding } from '../data/scrub';
import type { SkipReason } from '../data/skips';

export interface DatasetFile {
  /** The id the build gives the file: its path in the source (prefixed by the source's label when several). */
  fileId: string;
  absPath: string;
  /** Tokens this file contributes (documents dropped as duplicates count nothing). */
  tokens: number;
  documents: number;
  skip?: SkipReason;
  findings: ScrubFinding[];
}

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
  sources: DatasetSource[];
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

interface CachedFile {
  skip?: SkipReason;
  docs?: { tokens?: { length: number } }[];
  findings?: ScrubFinding[];
}

/** The cache index's files, or {} when it is missing or unreadable (the view then shows totals only). */
function cachedFiles(dir: string): Record<string, CachedFile> {
  try {
    const index = JSON.parse(readFileSync(join(dir, 'cache', 'index.json'), 'utf8')) as {
      files?: Record<string, CachedFile>;
    };
    return index.files ?? {};
  } catch {
    return {};
  }
}

/** Labels as data/build.ts gives them: none for one source, the folder's name (made unique) for several. */
function sourceLabels(paths: string[]): string[] {
  if (paths.length < 2) return paths.map(() => '');
  const seen = new Set<string>();
  return paths.map((p, i) => {
    let label = basename(p);
    if (seen.has(label)) label = `${label}#${i}`;
    seen.add(label);
    return label;
  });
}

export function readDatasetInfo(dir: string): DatasetInfo {
  const manifest = readManifest(join(dir, MANIFEST_FILE));
  const files = cachedFiles(dir);
  const labels = sourceLabels(manifest.sources.map((s) => s.path));
  const sources: DatasetSource[] = manifest.sources.map((s) => ({ ...s, files: [] }));
  for (const [fileId, f] of Object.entries(files)) {
    let k = 0;
    let rel = fileId;
    if (labels.length > 1) {
      k = labels.findIndex((l) => fileId === l || fileId.startsWith(`${l}/`));
      if (k < 0) continue;
      rel = fileId.slice(labels[k].length + 1);
    }
    const source = sources[k];
    if (!source) continue;
    source.files.push({
      fileId,
      absPath: source.kind === 'workspace' && rel ? join(source.path, rel) : source.path,
      tokens: (f.docs ?? []).reduce((n, d) => n + (d.tokens?.length ?? 0), 0),
      documents: f.docs?.length ?? 0,
      skip: f.skip,
      findings: f.findings ?? [],
    });
  }
  for (const s of sources) s.files.sort((a, b) => a.fileId.localeCompare(b.fileId));
  return { dir, name: manifest.name, manifest, sources };
}
