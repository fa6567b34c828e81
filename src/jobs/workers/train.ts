/**
 * The forked worker (`dist/worker/train.js`): receives one `start`, runs the job (training, a
 * dataset build, an export, an evaluation or a dataset preview — heavy, or loading a tokenizer:
 * none belongs in the extension host), streams protocol messages, heartbeats, and exits. A `stop` message, or the host going away (window closed: the IPC channel
 * disconnects), ends training gracefully: the current step finishes and a checkpoint is written.
 */
import { exportModel } from '../../engine/generate/export';
import { buildDataset } from '../../data/build';
import { appendFileSync } from 'node:fs';
import { withFolderLock } from '../../engine/formats/lock';
import { join } from 'node:path';
import { EVAL_FILE, evalCardInfo, writeEvalReport } from '../../eval/report';
import { isUserError } from '../../engine/errors';
import { train } from '../../engine/train/trainer';
import {
  isHostMessage,
  PROTOCOL_VERSION,
  tag,
  type HostMessage,
  type JobRequest,
  type WorkerMessage,
} from '../protocol';
import { evaluateDataset } from '../datasetEvaluation';
import { previewDataset } from '../datasetSamples';
import { readRunRecord, writeRunRecord } from '../runs';
import {
  clearStopRequest,
  DETACHED_TRAIN_ARG,
  EVENTS_FILE,
  isLeaseExpired,
  isStopRequested,
  launchDetached,
  LAUNCH_ARG,
  LEASE_ENV,
} from '../runControl';
import { calibrate } from '../estimate';
import { trainOptionsFrom, type TrainSpec } from '../trainSpec';

const HEARTBEAT_MS = Number(process.env.LOCALTUNE_HEARTBEAT_MS ?? 2000);
/** Set: this worker outlives its host (runControl.ts) and stops when the host lease goes stale. */
const LEASE_MS = Number(process.env[LEASE_ENV] ?? 0);

let stopRequested = false;
/** Started detached on a run folder (no IPC): events go to the folder. */
let DETACHED = false;
let current: JobRequest['kind'] | undefined;

function send(m: WorkerMessage): void {
  // After a disconnect there is nobody to tell; the run folder still records everything.
  if (process.connected) process.send!(m);
}

function log(level: 'info' | 'warn', message: string): void {
  send(tag({ type: 'log', level, message }));
}

async function runTraining(spec: TrainSpec): Promise<void> {
  const options = await trainOptionsFrom(spec, (w) => log('warn', w));
  log('info', `${options.mode} fine-tuning of ${options.model.dir} into ${options.outDir}`);
  const runDir = options.outDir;
  clearStopRequest(runDir); // an old request must not stop a resumed run
  const done = await train(options, {
    onEvent: (e) => {
      send(tag(e));
      // Detached, the run folder is the only channel: what metrics.jsonl does not hold goes here.
      if (DETACHED && e.type !== 'step' && e.type !== 'eval')
        appendFileSync(join(runDir, EVENTS_FILE), JSON.stringify(e) + '\n');
    },
    // The run folder carries Stop after a window reload, and a lapsed lease after the editor closed.
    shouldStop: () =>
      stopRequested || isStopRequested(runDir) || (LEASE_MS > 0 && isLeaseExpired(runDir, LEASE_MS)),
  });
  clearStopRequest(runDir);
  // The host may be gone (window closed): the run folder says how it ended either way.
  if (readRunRecord(options.outDir))
    writeRunRecord(options.outDir, {
      status: done.reason,
      finalDir: done.finalDir,
      finalIs: done.finalIs,
      bestStep: done.bestStep,
    });
}

// The output folders are locked as the CLI locks them (cli/command.ts): an editor job and a CLI
// command writing one folder refuse each other with one line naming the holder's pid.
async function run(job: JobRequest): Promise<void> {
  if (job.kind === 'train') {
    await withFolderLock(job.spec.outDir, 'LocalTune editor training', () => runTraining(job.spec));
  } else if (job.kind === 'eval') {
    const report = await evaluateDataset({
      modelDir: job.modelDir,
      adapterDir: job.adapterDir,
      datasetDir: job.datasetDir,
      spans: job.spans,
      seed: job.seed,
      onProgress: (m) => log('info', m),
      onWarning: (w) => log('warn', w),
    });
    const reportPath = job.adapterDir ? join(job.adapterDir, EVAL_FILE) : undefined;
    if (reportPath) writeEvalReport(reportPath, report);
    send(tag({ type: 'eval-done', report, reportPath }));
  } else if (job.kind === 'export') {
    const result = await withFolderLock(job.outDir, 'LocalTune editor export', () =>
      exportModel({
        modelDir: job.modelDir,
        adapterDir: job.adapterDir,
        outDir: job.outDir,
        dtype: job.dtype,
        // eval.json lies beside a LoRA adapter, or in a fully tuned model's own folder.
        card: evalCardInfo(job.adapterDir ?? job.modelDir),
      }),
    );
    log('info', `exported ${result.outDir}/${result.modelFile}`);
    send(
      tag({
        type: 'export-done',
        outDir: result.outDir,
        modelFile: result.modelFile,
        maxLogitDiff: result.maxLogitDiff,
      }),
    );
  } else if (job.kind === 'calibrate') {
    log('info', 'timing training steps…');
    send(tag({ type: 'calibrate-done', calibration: await calibrate(job.spec) }));
  } else if (job.kind === 'preview') {
    const preview = await previewDataset(job.datasetDir, job.samples, job.modelDir);
    send(tag({ type: 'preview-done', preview }));
  } else {
    const result = await withFolderLock(job.outDir, 'LocalTune editor dataset build', () =>
      buildDataset({
        sources: job.sources,
        modelDir: job.modelDir,
        outDir: job.outDir,
        exclude: job.exclude,
        ...job.options,
        onWarning: (w) => log('warn', w),
      }),
    );
    log(
      'info',
      `dataset ${result.outDir}: read ${result.filesRead} files, tokenized ${result.documentsTokenized} documents`,
    );
    send(tag({ type: 'dataset-done', outDir: result.outDir, manifest: result.manifest }));
  }
}

function fail(err: unknown): void {
  const e = err as Error;
  send(
    tag({
      type: 'error',
      cause: isUserError(err) ? 'user' : 'internal',
      message: e?.message ?? String(err),
      stack: isUserError(err) ? undefined : e?.stack,
    }),
  );
}

function onMessage(m: unknown): void {
  if (!isHostMessage(m) || (m as HostMessage).v !== PROTOCOL_VERSION) {
    send(
      tag({
        type: 'error',
        cause: 'protocol',
        message: `worker speaks protocol v${PROTOCOL_VERSION}; got ${JSON.stringify(m).slice(0, 200)}`,
      }),
    );
    return;
  }
  if (m.type === 'stop') {
    stopRequested = true;
    return;
  }
  if (current) {
    send(tag({ type: 'error', cause: 'protocol', message: 'this worker already runs a job' }));
    return;
  }
  current = m.job.kind;
  start(m.job);
}

function start(job: JobRequest): void {
  run(job).then(
    () => finish(0),
    (err) => {
      fail(err);
      // A detached worker has no host to record the failure: the run folder says it.
      if (job.kind === 'train' && readRunRecord(job.spec.outDir)) {
        const e = err as Error;
        writeRunRecord(job.spec.outDir, {
          status: 'failed',
          error: { cause: isUserError(err) ? 'user' : 'crash', message: e?.message ?? String(err) },
        });
      }
      finish(1);
    },
  );
}

function finish(code: number): void {
  clearInterval(heartbeat);
  // Let queued IPC messages drain before leaving.
  if (process.connected) process.disconnect();
  process.exitCode = code;
  setTimeout(() => process.exit(code), 200).unref();
}

const heartbeat = setInterval(() => {
  const mem = process.memoryUsage();
  send(tag({ type: 'heartbeat', rss: mem.rss, heapUsed: mem.heapUsed, uptime: process.uptime() }));
}, HEARTBEAT_MS);

const detached = process.argv.indexOf(DETACHED_TRAIN_ARG);
DETACHED = detached > 0;
const launch = process.argv.indexOf(LAUNCH_ARG);
if (launch > 0) {
  // The first of a double fork: start the trainer outside the host's process tree, say its pid, go.
  process.stdout.write(`${launchDetached(process.argv[launch + 1])}\n`);
  process.exit(0);
} else if (detached > 0) {
  // The detached trainer: the run folder's run.json holds the spec; metrics, run.json and the
  // stop and lease files are all it shares with whichever window follows it.
  current = 'train';
  const record = readRunRecord(process.argv[detached + 1]);
  if (!record) {
    process.stderr.write(`localtune worker: no run.json in ${process.argv[detached + 1]}\n`);
    process.exit(2);
  }
  start({ kind: 'train', spec: record.spec });
} else if (!process.send) {
  process.stderr.write('localtune worker: start me with child_process.fork (no IPC channel)\n');
  process.exit(2);
}
process.on('message', onMessage);
process.on('disconnect', () => {
  // The window closed. Training stops after this step with a checkpoint — unless it is leased, then
  // a reloaded window re-attaches and the lease decides; anything else just ends (a dataset build
  // writes its files by rename, so stopping it halfway leaves the old ones).
  if (LEASE_MS <= 0) stopRequested = true;
  if (current !== 'train') process.exit(0);
});
process.on('uncaughtException', (err) => {
  fail(err);
  finish(1);
});
if (process.send) send(tag({ type: 'ready', pid: process.pid }));
