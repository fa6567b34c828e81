/**
 * One writer per output folder (a run, a dataset, an export): a lock file beside the folder names
 * the process that holds it. A second writer is refused with that pid; a lock whose process is gone
 * (killed, crashed) is taken over. Beside, not inside: the folder may not exist yet, or be replaced.
 */
import { linkSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { OptionError, UserError } from '../errors';

export interface FolderLock {
  readonly file: string;
  release(): void;
}

interface Holder {
  pid: number;
  what: string;
  since: string;
}

/** `<parent>/.<name>.lock` for the folder `<parent>/<name>`. */
export function lockFileOf(dir: string): string {
  const abs = resolve(dir);
  return join(dirname(abs), `.${basename(abs)}.lock`);
}

/**
 * Takes the lock on `dir` for this process (`what` says what for, in the refusal others get).
 * `option` names the option that gave the folder, for the message when it is a file.
 */
export function lockFolder(dir: string, what: string, option = 'outDir'): FolderLock {
  const abs = resolve(dir);
  if (statSync(abs, { throwIfNoEntry: false })?.isFile())
    throw new OptionError([option], `${option} ${abs} is a file; give a folder`);
  try {
    mkdirSync(dirname(abs), { recursive: true });
  } catch (err) {
    throw new OptionError(
      [option],
      `${option} ${abs}: cannot create its parent folder (${(err as Error).message})`,
    );
  }
  const file = lockFileOf(abs);
  const holder: Holder = { pid: process.pid, what, since: new Date().toISOString() };
  // Written whole under a private name, then linked into place: link fails if the lock exists.
  const tmp = `${file}.${process.pid}-${Math.random().toString(36).slice(2)}`;
  writeFileSync(tmp, JSON.stringify(holder) + '\n');
  try {
    for (let attempt = 0; ; attempt++) {
      try {
        linkSync(tmp, file);
        break;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST' || attempt === 2)
          throw new UserError(`${abs}: cannot take its lock ${file} (${(err as Error).message})`);
      }
      const other = readHolder(file);
      if (other && isAlive(other.pid))
        throw new UserError(
          `${abs} is in use by process ${other.pid} (${other.what}, since ${other.since}); wait for it to end or choose another folder`,
        );
      rmSync(file, { force: true }); // its process is gone: a stale lock
    }
  } finally {
    rmSync(tmp, { force: true });
  }
  const release = () => {
    process.off('exit', release);
    if (readHolder(file)?.pid === process.pid) rmSync(file, { force: true });
  };
  process.on('exit', release);
  return { file, release };
}

/** Runs `body` holding the lock on `dir`; released however it ends. */
export async function withFolderLock<T>(
  dir: string,
  what: string,
  body: () => Promise<T>,
  option?: string,
): Promise<T> {
  const lock = lockFolder(dir, what, option);
  try {
    return await body();
  } finally {
    lock.release();
  }
}

function readHolder(file: string): Holder | undefined {
  try {
    const h = JSON.parse(readFileSync(file, 'utf8')) as Holder;
    return Number.isInteger(h.pid) ? h : undefined;
  } catch {
    return undefined;
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
  return !isZombie(pid);
}

/** A process that has ended but was not reaped (its parent gone, in a container without an init that reaps) holds nothing. */
function isZombie(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z');
  } catch {
    return false;
  }
}
