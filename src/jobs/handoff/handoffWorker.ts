/**
 * Export and import as a one-shot worker job (`dist/worker/handoff.js`), so the editor never
 * tokenizes a dataset or copies a merged model in its own process: the host sends one request,
 * the worker answers with the result or one error line and exits.
 */
import { forkWorker } from '../fork';
import type { TrainSpec } from '../trainSpec';
import type { ImportedRun } from './importRun';
import type { Engine } from './versions';

export type HandoffRequest =
  | { type: 'export'; spec: TrainSpec; engine: Engine; outDir: string }
  | { type: 'import'; dir: string; runDir: string; title?: string };

export type HandoffReply =
  | { type: 'exported'; dir: string; documents: number; identical: number }
  | { type: 'imported'; run: Pick<ImportedRun, 'runDir' | 'finalDir' | 'mode' | 'steps' | 'evaluations'> }
  | { type: 'error'; message: string; user: boolean };

/** Runs one request in a forked worker; rejects with the worker's one-line error. */
export function runHandoff(workerPath: string, request: HandoffRequest): Promise<HandoffReply> {
  const child = forkWorker(workerPath);
  let stderr = '';
  child.stderr?.on('data', (b: Buffer) => (stderr = (stderr + b.toString()).slice(-4000)));
  child.stdout?.resume();
  return new Promise((resolve, reject) => {
    let reply: HandoffReply | undefined;
    child.on('message', (m: HandoffReply) => (reply = m));
    child.on('error', reject);
    child.on('exit', (code) => {
      if (reply?.type === 'error') reject(new Error(reply.message));
      else if (reply) resolve(reply);
      else
        reject(
          new Error(
            `the hand-off worker ended (code ${code}) without an answer: ${stderr.trim().split('\n').pop() ?? ''}`,
          ),
        );
    });
    child.send(request);
  });
}
