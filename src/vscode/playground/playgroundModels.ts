/**
 * What the Playground compares, from what it was opened on: a run (or one of its checkpoints) — its
 * weights as the tuned model beside the base model it was trained from; a model folder from the
 * Models view — that model alone; an exported folder — the export, beside its run's base when it
 * came from a run.
 */
import { existsSync } from 'node:fs';
import { basename, join } from 'node:path';
import { readRunRecord, type RunWeights } from '../../jobs/runs';
import { resolveServedModel } from '../completion/completionModel';
import type { PlaygroundModels } from './playgroundPanel';

type FindBase = (hubId: string) => Promise<string | undefined>;

/** A run's weights as the tuned side, its base model as the other; or why not. */
export async function runPlaygroundModels(
  runDir: string,
  weights: RunWeights,
  findBase: FindBase,
): Promise<PlaygroundModels | { error: string }> {
  const tuned = await resolveServedModel(weights.dir, findBase);
  if ('error' in tuned) return tuned;
  const record = readRunRecord(runDir);
  const title = record?.title ?? basename(runDir);
  const baseDir =
    'modelDir' in tuned.source && tuned.source.adapterDir ? tuned.source.modelDir : record?.spec.modelDir;
  const base =
    baseDir && existsSync(join(baseDir, 'config.json'))
      ? { label: basename(baseDir), source: { modelDir: baseDir } }
      : undefined;
  const which = weights.kind === 'step' ? ` (step ${weights.step})` : '';
  return { title, base, tuned: { label: `${title}${which}`, source: tuned.source } };
}

/** A folder chosen directly: an export or a tuned folder (with its run's base when known), or a base model. */
export async function folderPlaygroundModels(
  dir: string,
  findBase: FindBase,
): Promise<PlaygroundModels | { error: string }> {
  const served = await resolveServedModel(dir, findBase);
  if ('error' in served) return served;
  const fromRun = served.runDir !== undefined || 'exportDir' in served.source || !!served.source.adapterDir;
  if (!fromRun) return { title: served.label, base: { label: served.label, source: served.source } };
  const runBase = served.runDir ? readRunRecord(served.runDir)?.spec.modelDir : undefined;
  const baseDir = 'modelDir' in served.source && served.source.adapterDir ? served.source.modelDir : runBase;
  const base =
    baseDir && existsSync(join(baseDir, 'config.json'))
      ? { label: basename(baseDir), source: { modelDir: baseDir } }
      : undefined;
  return { title: served.label, base, tuned: { label: served.label, source: served.source } };
}
