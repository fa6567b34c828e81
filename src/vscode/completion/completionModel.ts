/**
 * What serves completions, read from disk (no vscode import): the folder chosen with "Use for
 * Completions" (a LoRA adapter with its base model, a fully tuned model folder, or a folder
 * written by `localtune export`) turned into the completion worker's model spec; and the files the
 * workspace's datasets flagged for secrets (their `scrub-report.json`), where completions stay off.
 */
import { existsSync, readFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { readManifest } from '../../data/datasetFiles';
import { DATASET_FILES, MANIFEST_FILE } from '../../data/manifest';
import type { ScrubFinding } from '../../data/scrub';
import type { CompletionModelSource } from '../../jobs/completeProtocol';
import { readRunRecord, RUN_FILE } from '../../jobs/runs';

export interface ServedModel {
  /** The folder as chosen (the `localtune.completions.model` setting): the stats' key. */
  folder: string;
  source: CompletionModelSource;
  /** The run's title, else the folder's name (with its base model's, for an adapter). */
  label: string;
  runDir?: string;
}

/** The run folder `folder` belongs to (it, or up to two levels up holding run.json). */
function runDirOf(folder: string): string | undefined {
  for (let dir = folder, i = 0; i < 3; i++, dir = dirname(dir))
    if (existsSync(join(dir, RUN_FILE))) return dir;
  return undefined;
}

/**
 * The worker's model spec for a chosen folder, or a message saying why it cannot serve.
 * `findBase` turns an adapter's `base_model_name_or_path` that is no folder (a hub id) into the
 * cached snapshot's folder.
 */
export async function resolveServedModel(
  folder: string,
  findBase: (hubId: string) => Promise<string | undefined> = async () => undefined,
): Promise<ServedModel | { error: string }> {
  const dir = resolve(folder);
  if (!existsSync(dir)) return { error: `${dir} does not exist (was the run deleted?)` };
  const runDir = runDirOf(dir);
  const record = runDir ? readRunRecord(runDir) : null;
  const label = record?.title;
  if (existsSync(join(dir, 'onnx', 'model.onnx')))
    return { folder, source: { exportDir: dir }, label: label ?? basename(dir), runDir };
  if (existsSync(join(dir, 'adapter_config.json'))) {
    let base = record?.spec.mode === 'lora' ? record.spec.modelDir : undefined;
    if (!base || !existsSync(join(base, 'config.json'))) {
      let named = '';
      try {
        named = String(
          (JSON.parse(readFileSync(join(dir, 'adapter_config.json'), 'utf8')) as Record<string, unknown>)
            .base_model_name_or_path ?? '',
        );
      } catch {
        return { error: `${join(dir, 'adapter_config.json')} is not valid JSON` };
      }
      base =
        named && existsSync(join(named, 'config.json')) ? named : named ? await findBase(named) : undefined;
      if (!base)
        return {
          error: `the base model of the adapter in ${dir} (${named || 'not named'}) is not on this machine`,
        };
    }
    return {
      folder,
      source: { modelDir: base, adapterDir: dir },
      label: label ?? `${basename(base)} + ${basename(dir)}`,
      runDir,
    };
  }
  if (existsSync(join(dir, 'config.json')))
    return { folder, source: { modelDir: dir }, label: label ?? basename(dir), runDir };
  return {
    error: `${dir} holds no adapter, model or export (a full fine-tuning checkpoint has weights only: use the run's final model, or export it)`,
  };
}

/**
 * Absolute paths of the files that `datasetDirs`' secret scrubber flagged (findings the user did
 * not mark as false positives), from each dataset's scrub-report.json. A report names a file by its
 * path in its source (prefixed by the source's label when a dataset has several sources).
 */
export function flaggedFiles(datasetDirs: string[]): Set<string> {
  const flagged = new Set<string>();
  for (const dir of datasetDirs) {
    let files: { file: string; findings: ScrubFinding[] }[];
    let sources: { path: string; kind: string }[];
    try {
      sources = readManifest(join(dir, MANIFEST_FILE)).sources;
      files =
        (
          JSON.parse(readFileSync(join(dir, DATASET_FILES.scrubReport), 'utf8')) as {
            files?: { file: string; findings: ScrubFinding[] }[];
          }
        ).files ?? [];
    } catch {
      continue; // no report (an older dataset) or one being rewritten
    }
    for (const f of files) {
      if (!f.findings.some((x) => !x.allowed)) continue;
      const withoutLabel = f.file.includes('/') ? f.file.slice(f.file.indexOf('/') + 1) : '';
      for (const s of sources) {
        if (s.kind !== 'workspace') {
          if (f.file.replace(/#\d+$/, '') === basename(s.path)) flagged.add(s.path);
          continue;
        }
        flagged.add(join(s.path, f.file));
        if (sources.length > 1 && withoutLabel) flagged.add(join(s.path, withoutLabel));
      }
    }
  }
  return flagged;
}
