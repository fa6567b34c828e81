/**
 * The Datasets view's out-of-date check, off the extension host's thread: one worker thread
 * (workers/datasetChanges.ts), started on the first scan, answers what changed in each dataset's
 * workspace since its build. No vscode import.
 */
import type { Worker } from 'node:worker_threads';
import { startWorkerThread } from '../data/workerThread';
import type { WorkspaceChanges } from './datasetInfo';

export interface ChangesRequest {
  id: number;
  dirs: string[];
}

export interface ChangesReply {
  id: number;
  /** Per dataset folder: its changes, or why they could not be found (a torn manifest). */
  results: ({ dir: string; changes: WorkspaceChanges } | { dir: string; error: string })[];
}

export class DatasetChangesScan {
  private worker: Worker | undefined;
  private nextId = 0;
  private readonly waiting = new Map<
    number,
    { resolve: (r: ChangesReply) => void; reject: (e: Error) => void }
  >();

  /** Each dataset folder's changes (folders that could not be read are left out). */
  async scan(dirs: string[]): Promise<Map<string, WorkspaceChanges>> {
    if (dirs.length === 0) return new Map();
    const id = this.nextId++;
    const reply = await new Promise<ChangesReply>((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      const w = this.started();
      w.ref(); // a scan under way keeps the process alive; an idle worker does not
      w.postMessage({ id, dirs } satisfies ChangesRequest);
    });
    return new Map(reply.results.flatMap((r) => ('changes' in r ? [[r.dir, r.changes] as const] : [])));
  }

  dispose(): void {
    void this.worker?.terminate();
    this.worker = undefined;
  }

  private started(): Worker {
    if (this.worker) return this.worker;
    const w = startWorkerThread(__filename, 'workers/datasetChanges.ts', 'dataset-changes.js');
    if (!w) throw new Error('the dataset-changes worker is missing (dist/worker/dataset-changes.js)');
    w.on('message', (reply: ChangesReply) => {
      this.waiting.get(reply.id)?.resolve(reply);
      this.waiting.delete(reply.id);
      if (this.waiting.size === 0) w.unref();
    });
    const fail = (err: Error) => {
      for (const p of this.waiting.values()) p.reject(err);
      this.waiting.clear();
      this.worker = undefined;
    };
    w.on('error', fail);
    w.on('exit', (code) => fail(new Error(`the dataset-changes worker exited with code ${code}`)));
    this.worker = w;
    return w;
  }
}
