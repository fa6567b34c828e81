// Worker thread of the Datasets view's out-of-date check: walks each dataset's sources (stat only)
// and answers what changed since its build, so a big workspace never blocks the extension host.
// Bundled as dist/worker/dataset-changes.js.
import { parentPort } from 'node:worker_threads';
import { readDatasetInfo, workspaceChanges } from '../datasetInfo';
import type { ChangesReply, ChangesRequest } from '../datasetChangesScan';

const port = parentPort;
if (!port) throw new Error('workers/datasetChanges runs in a worker thread');
port.on('message', (req: ChangesRequest) => {
  const reply: ChangesReply = {
    id: req.id,
    results: req.dirs.map((dir) => {
      try {
        return { dir, changes: workspaceChanges(readDatasetInfo(dir)) };
      } catch (err) {
        return { dir, error: (err as Error).message };
      }
    }),
  };
  port.postMessage(reply);
});
