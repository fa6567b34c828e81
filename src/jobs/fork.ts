/**
 * Forking a worker the way every LocalTune worker is forked: glibc tuned to keep freed memory, an
 * IPC channel with JSON serialization, stdout and stderr piped to the host (a native crash prints
 * there), and TypeScript sources run through tsx (tests fork the source, the extension the bundle).
 */
import { fork, type ChildProcess } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';

/**
 * How every process that runs onnxruntime's training or inference is started (docs/peers.md):
 * - freed memory is slow to re-touch on many Linux VMs; glibc keeps it (no mmap, no trim), which
 *   costs nothing elsewhere;
 * - glibc ≥ 2.35 asks for transparent huge pages on its heap (`glibc.malloc.hugetlb=1`, madvise):
 *   fewer TLB misses in products over 100+ MB of weights and activations and 512× fewer page
 *   faults when the arena first grows. gpt2-small, 1,024-token runs, processes alternating:
 *   LoRA 1,772 → 1,708 ms, full 3,110–4,354 → 2,806–3,790 ms, first runs 4.1–4.9 → 2.9–3.4 s.
 *   Older glibc ignores the tunable; so does a kernel with THP off. A user's own tunables are kept.
 */
export const WORKER_ENV = workerEnvFor(process.env);

/** The settings a worker started from `env` runs with. */
function workerEnvFor(env: NodeJS.ProcessEnv) {
  return {
    MALLOC_MMAP_MAX_: '0',
    MALLOC_TRIM_THRESHOLD_: '68719476736',
    GLIBC_TUNABLES: withHugePages(env.GLIBC_TUNABLES),
  };
}

/** `env` already holds every setting a worker would get (so a process started in it needs no relaunch). */
export function hasWorkerEnv(env: NodeJS.ProcessEnv): boolean {
  return Object.entries(workerEnvFor(env)).every(([key, value]) => env[key] === value);
}

/** `tunables` (a user's GLIBC_TUNABLES) with huge pages asked for, unless it already says. */
export function withHugePages(tunables: string | undefined): string {
  if (!tunables) return 'glibc.malloc.hugetlb=1';
  return tunables.includes('glibc.malloc.hugetlb=') ? tunables : `${tunables}:glibc.malloc.hugetlb=1`;
}

export interface ForkOptions {
  env?: NodeJS.ProcessEnv;
  /** Default: `--import tsx` for a `.ts` worker, nothing for a bundle. */
  execArgv?: string[];
  /**
   * Outlive the host: a process group of its own (a window reload ends the host, not the worker),
   * stdout and stderr appended to this file instead of pipes that would break with the host.
   */
  detachedLog?: string;
}

export function forkWorker(workerPath: string, o: ForkOptions = {}): ChildProcess {
  const log = o.detachedLog ? openSync(o.detachedLog, 'a') : undefined;
  try {
    return fork(workerPath, [], {
      env: { ...process.env, ...o.env, ...WORKER_ENV },
      execArgv: o.execArgv ?? (workerPath.endsWith('.ts') ? ['--import', 'tsx'] : []),
      stdio: log === undefined ? ['ignore', 'pipe', 'pipe', 'ipc'] : ['ignore', log, log, 'ipc'],
      detached: log !== undefined,
      serialization: 'json',
    });
  } finally {
    if (log !== undefined) closeSync(log); // the child holds its own copy
  }
}
