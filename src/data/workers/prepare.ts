// Worker thread of the dataset build's pass 1: prepares batches of files (prepare.ts) and answers
// each batch with its results in order. Bundled as dist/worker/data-prepare.js.
import { parentPort } from 'node:worker_threads';
import { prepareFile, type WorkerReply, type WorkerRequest } from '../prepare';

const port = parentPort;
if (!port) throw new Error('workers/prepare runs in a worker thread');
port.on('message', (req: WorkerRequest) => {
  const reply: WorkerReply = {
    batch: req.batch,
    results: req.jobs.map((job) => prepareFile(job, req.minhashSeed)),
  };
  port.postMessage(reply);
});
