/**
 * How a host and a training worker that outlives it talk through the run folder (no IPC needed):
 * a stop file the trainer polls between steps (Stop works after a window reload), and a host lease
 * the attached host keeps touching. A worker whose lease goes stale — the editor was closed, not
 * reloaded — stops by itself with a checkpoint. A reloaded window renews the lease within seconds.
 */
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, mkdirSync, openSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { WORKER_ENV } from './fork';

export const STOP_FILE = 'stop.request';
/** A detached trainer's events that metrics.jsonl does not hold (start, log, checkpoint, done). */
export const EVENTS_FILE = 'events.jsonl';
export const LEASE_FILE = 'host.lease';
/** The worker's output when it runs detached (a native crash prints there). */
export const WORKER_LOG = 'worker.log';
/** The worker reads this environment variable: set, it runs leased (outlives its host). */
export const LEASE_ENV = 'LOCALTUNE_HOST_LEASE_MS';
/** Long enough for a window reload under load; short enough that a closed editor stops the run soon. */
export const DEFAULT_LEASE_MS = 60_000;

export function requestStop(runDir: string): void {
  mkdirSync(runDir, { recursive: true });
  writeFileSync(join(runDir, STOP_FILE), `${new Date().toISOString()}\n`);
}

export function clearStopRequest(runDir: string): void {
  rmSync(join(runDir, STOP_FILE), { force: true });
}

export function isStopRequested(runDir: string): boolean {
  try {
    statSync(join(runDir, STOP_FILE));
    return true;
  } catch {
    return false;
  }
}

export function touchLease(runDir: string): void {
  const path = join(runDir, LEASE_FILE);
  mkdirSync(runDir, { recursive: true });
  const now = new Date();
  try {
    utimesSync(path, now, now);
  } catch {
    closeSync(openSync(path, 'w'));
  }
}

/** True when a lease exists and nobody renewed it for `leaseMs`; no lease file means no host ever held one. */
export function isLeaseExpired(runDir: string, leaseMs: number, now = Date.now()): boolean {
  try {
    return now - statSync(join(runDir, LEASE_FILE)).mtimeMs > leaseMs;
  } catch {
    return false;
  }
}

/** The host's side: renews the lease every quarter of its length until disposed. */
export class HostLease {
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly runDir: string,
    leaseMs = DEFAULT_LEASE_MS,
  ) {
    touchLease(runDir);
    this.timer = setInterval(() => {
      try {
        touchLease(this.runDir);
      } catch {
        // the run folder was deleted: nothing left to hold
      }
    }, leaseMs / 4);
    this.timer.unref();
  }

  dispose(): void {
    clearInterval(this.timer);
  }
}

/** The training worker's arguments: run detached on a run folder, or launch such a run and exit. */
export const DETACHED_TRAIN_ARG = '--detached-train';
export const LAUNCH_ARG = '--launch-detached';

/**
 * Starts a detached training worker on `runDir` (its run.json holds the spec) that no host's process
 * tree contains: a launcher process starts it and exits at once, so an editor that kills its
 * extension host's whole tree on reload leaves the training alone. Returns the trainer's pid.
 */
export function startDetachedTraining(
  workerPath: string,
  runDir: string,
  o: { leaseMs: number; env?: NodeJS.ProcessEnv; execArgv?: string[] },
): number {
  const execArgv = o.execArgv ?? (workerPath.endsWith('.ts') ? ['--import', 'tsx'] : []);
  const r = spawnSync(process.execPath, [...execArgv, workerPath, LAUNCH_ARG, runDir], {
    env: { ...process.env, ...o.env, ...WORKER_ENV, [LEASE_ENV]: String(o.leaseMs) },
    encoding: 'utf8',
    timeout: 60_000,
  });
  const pid = Number(r.stdout?.trim().split('\n').at(-1));
  if (r.status !== 0 || !Number.isInteger(pid) || pid <= 0)
    throw new Error(`the training worker did not start: ${(r.stderr || r.error?.message || '').slice(-500)}`);
  return pid;
}

/** In the launcher: the trainer itself, detached, its output appended to the run's worker.log. */
export function launchDetached(runDir: string): number {
  const log = openSync(join(runDir, WORKER_LOG), 'a');
  const child = spawn(process.execPath, [...process.execArgv, process.argv[1], DETACHED_TRAIN_ARG, runDir], {
    detached: true,
    stdio: ['ignore', log, log],
    env: process.env,
  });
  closeSync(log);
  child.unref();
  return child.pid!;
}
