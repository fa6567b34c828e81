/**
 * A model setting or pick as a local folder: as is, from the hub cache, or downloaded with a
 * cancellable progress notification. Building a dataset, starting fine-tuning and adding a model
 * all go through it.
 */
import * as vscode from 'vscode';
import { hubCacheDir, resolveModel } from '../../engine/hub/hub';
import { formatProgress } from '../../engine/hub/hubProgress';
import { cachedHubModel, isLocalFolder } from '../modelCatalog';
import type { CommandDeps } from './common';

/** Resolves to the folder, or undefined when the download was cancelled. */
export async function modelFolder(
  d: Pick<CommandDeps, 'downloadCache' | 'models' | 'log'>,
  idOrDir: string,
): Promise<string | undefined> {
  if (isLocalFolder(idOrDir)) return idOrDir;
  const cached =
    (await cachedHubModel(idOrDir, hubCacheDir())) ?? (await cachedHubModel(idOrDir, d.downloadCache()));
  if (cached) return cached;
  return vscode.window.withProgress(
    {
      location: vscode.ProgressLocation.Notification,
      title: `LocalTune: downloading ${idOrDir}`,
      cancellable: true,
    },
    async (progress, token) => {
      const abort = new AbortController();
      token.onCancellationRequested(() => abort.abort());
      try {
        const dir = await resolveModel(idOrDir, {
          cacheDir: d.downloadCache(),
          signal: abort.signal,
          onProgress: (p) => progress.report({ message: formatProgress(p) }),
        });
        d.log.info(`model ${idOrDir} in ${dir}`);
        d.models.refresh();
        return dir;
      } catch (err) {
        if (abort.signal.aborted) return undefined;
        throw err;
      }
    },
  );
}
