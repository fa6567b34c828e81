/**
 * Forking a worker the way every LocalTune worker is forked: glibc tuned to keep freed memory, an
 * IPC channel with JSON serialization, stdout and stderr piped to the host (a native crash prints
 * there), and TypeScript sources run through tsx (tests fork the source, the extension the bundle).
 */
import { fork, type ChildProcess } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';

/** Freed memory is slow to re-touch on many Linux VMs; keeping it costs nothing elsewhere (docs/peers.md). */
export const WORKER_ENV = { MALLOC_MMAP_MAX_: '0', MALLOC_TRIM_THRESHOLD_: '68719476736' };

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
