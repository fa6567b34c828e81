/** The hand-off worker (`dist/worker/handoff.js`): one export or import request, one reply, exit. */
import { isUserError } from '../../engine/errors';
import { exportJob } from '../handoff/exportJob';
import type { HandoffReply, HandoffRequest } from '../handoff/handoffWorker';
import { importRun } from '../handoff/importRun';

async function handle(m: HandoffRequest): Promise<HandoffReply> {
  if (m.type === 'export') {
    const job = await exportJob({ spec: m.spec, engine: m.engine, outDir: m.outDir });
    return { type: 'exported', dir: job.dir, ...job.roundTrip };
  }
  const { runDir, finalDir, mode, steps, evaluations } = await importRun(m);
  return { type: 'imported', run: { runDir, finalDir, mode, steps, evaluations } };
}

process.once('message', (m: HandoffRequest) => {
  handle(m)
    .catch((err: unknown): HandoffReply => ({
      type: 'error',
      message: (err as Error)?.message ?? String(err),
      user: isUserError(err),
    }))
    .then((reply) => process.send!(reply, () => process.exit(0)));
});
