// Pass 1 of a build for one file: read -> hash -> filter -> scrub -> fingerprint. The same function
// runs in the build's thread or, for many files, in a pool of worker threads (workers/prepare.ts);
// results come back in submission order, so a build is the same whichever ran it.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import type { Worker } from 'node:worker_threads';
import { fingerprint } from './dedup';
import type { ChatTemplate } from './formats/chat';
import type { CsvColumns } from './formats/csv';
import type { Sample } from './formats/sample';
import type { ScrubAllow, ScrubFinding } from './scrub';
import type { SkipReason } from './skips';
import { processFile, type SourceDoc, type SourceKind } from './sources';
import { startWorkerThread } from './workerThread';

/** A file to prepare. Workers take workspace and text files; JSONL (chat templates) stays in-thread. */
export interface PrepareJob {
  absPath: string;
  /** The content hash the cache holds for it: when the bytes still hash so, nothing more is done. */
  knownHash?: string;
  allow?: ScrubAllow[];
  /** Send the scrubbed documents back (pass 2 then needs not read the file again). */
  keepText: boolean;
}

export interface PreparedDoc {
  line: number | null;
  exact: string;
  /** MinHash signature. */
  sig: Uint32Array;
}

export type Prepared =
  | { error: string }
  | { contentHash: string; unchanged: true }
  | { contentHash: string; skip: SkipReason }
  | {
      contentHash: string;
      findings: ScrubFinding[];
      malformed: number;
      docs: PreparedDoc[];
      /** The documents themselves, when the job asked for them. */
      sourceDocs?: SourceDoc[];
    };

/** How a file is read in the build's own thread: JSONL records may need the chat template. */
export interface LocalOptions {
  kind: SourceKind;
  chat: ChatTemplate | null;
  /** CSV/TSV columns chosen by name. */
  csvColumns?: CsvColumns;
  onWarning?: (message: string) => void;
}

export function prepareFile(job: PrepareJob, minhashSeed: number, local?: LocalOptions): Prepared {
  let bytes: Buffer;
  try {
    bytes = readFileSync(job.absPath);
  } catch (err) {
    return { error: String((err as NodeJS.ErrnoException).code ?? err) };
  }
  const contentHash = createHash('sha256').update(bytes).digest('hex');
  if (job.knownHash === contentHash) return { contentHash, unchanged: true };
  const result = processFile(job.absPath, local?.kind ?? 'text', bytes, {
    chat: local?.chat ?? null,
    scrub: true,
    allow: job.allow,
    csvColumns: local?.csvColumns,
    onWarning: local?.onWarning,
  });
  if ('skip' in result) return { contentHash, skip: result.skip };
  const docs = result.docs.map((d) => {
    const { exact, sig } = fingerprint(sampleText(d.sample), minhashSeed);
    return { line: d.line, exact, sig };
  });
  return {
    contentHash,
    findings: result.findings,
    malformed: result.malformed,
    docs,
    sourceDocs: job.keepText ? result.docs : undefined,
  };
}

/** The text a sample is fingerprinted (and FIM-cut) on. */
export function sampleText(sample: Sample): string {
  return sample.length === 1 && 'text' in sample[0]
    ? sample[0].text
    : sample.map((s) => ('text' in s ? s.text : '')).join('');
}

/** Worker threads a build uses by default: one per core, none on a single core. */
export function defaultWorkers(): number {
  const cores = availableParallelism();
  return cores < 2 ? 0 : Math.min(cores, 4);
}

export interface WorkerRequest {
  batch: number;
  minhashSeed: number;
  jobs: PrepareJob[];
}
export interface WorkerReply {
  batch: number;
  results: Prepared[];
}

// Jobs travel in batches (one message per file would cost more than small files take to prepare).
const BATCH_JOBS = 32;
const BATCH_BYTES = 4 << 20;

interface Pending {
  resolve: (p: Prepared) => void;
  reject: (e: Error) => void;
}

/** Worker threads preparing files; `prepare` answers each job, `flush` sends a partial batch. */
export class PreparePool {
  private readonly workers: Worker[];
  private readonly inFlight = new Map<number, Pending[]>();
  private readonly load: number[];
  private batchJobs: PrepareJob[] = [];
  private batchWaiters: Pending[] = [];
  private batchBytes = 0;
  private nextBatch = 0;
  private failure: Error | null = null;

  private constructor(
    workers: Worker[],
    private readonly minhashSeed: number,
  ) {
    this.workers = workers.map((w, i) => {
      w.on('message', (reply: WorkerReply) => this.answer(i, reply));
      w.on('error', (err) => this.fail(err));
      w.on('exit', (code) => {
        if (code !== 0) this.fail(new Error(`dataset worker exited with code ${code}`));
      });
      return w;
    });
    this.load = this.workers.map(() => 0);
  }

  /** A pool of `count` workers, or null when the worker module cannot be found (prepare in-thread). */
  static create(count: number, minhashSeed: number): PreparePool | null {
    const start = () => startWorkerThread(__filename, 'workers/prepare.ts', 'data-prepare.js');
    const first = count > 0 ? start() : null;
    if (!first) return null;
    return new PreparePool([first, ...Array.from({ length: count - 1 }, () => start()!)], minhashSeed);
  }

  prepare(job: PrepareJob, sizeHint: number): Promise<Prepared> {
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      this.batchJobs.push(job);
      this.batchWaiters.push({ resolve, reject });
      this.batchBytes += sizeHint;
      if (this.batchJobs.length >= BATCH_JOBS || this.batchBytes >= BATCH_BYTES) this.flush();
    });
  }

  flush(): void {
    if (this.batchJobs.length === 0) return;
    const batch = this.nextBatch++;
    // The least loaded worker takes it (a worker's load is its batches in flight).
    let w = 0;
    for (let i = 1; i < this.workers.length; i++) if (this.load[i] < this.load[w]) w = i;
    this.load[w]++;
    this.inFlight.set(batch, this.batchWaiters);
    const req: WorkerRequest = { batch, minhashSeed: this.minhashSeed, jobs: this.batchJobs };
    this.workers[w].postMessage(req);
    this.batchJobs = [];
    this.batchWaiters = [];
    this.batchBytes = 0;
  }

  async close(): Promise<void> {
    this.failure ??= new Error('dataset worker pool closed');
    for (const waiters of this.inFlight.values()) for (const p of waiters) p.reject(this.failure);
    this.inFlight.clear();
    await Promise.all(this.workers.map((w) => w.terminate()));
  }

  private answer(worker: number, reply: WorkerReply): void {
    const waiters = this.inFlight.get(reply.batch);
    if (!waiters) return;
    this.inFlight.delete(reply.batch);
    this.load[worker]--;
    reply.results.forEach((r, i) => waiters[i].resolve(r));
  }

  private fail(err: Error): void {
    if (this.failure) return;
    this.failure = err;
    for (const waiters of this.inFlight.values()) for (const p of waiters) p.reject(err);
    this.inFlight.clear();
    for (const p of this.batchWaiters) p.reject(err);
    this.batchWaiters = [];
    this.batchJobs = [];
  }
}
