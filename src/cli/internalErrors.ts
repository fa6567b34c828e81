/**
 * An unexpected failure (a bug, not bad input) reaches the user as one line naming a log file;
 * the stack trace goes into that file, for a bug report.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CliIo } from './command';

/** Runs `body`; an error it throws becomes one line on stderr and exit code 1. */
export async function internalErrorsLogged(io: CliIo, body: () => Promise<number>): Promise<number> {
  try {
    return await body();
  } catch (err) {
    io.err(`localtune: ${internalErrorLine(err)}`);
    return 1;
  }
}

/** "internal error: <first line> (details in <log file>)"; the trace is written to that file. */
export function internalErrorLine(err: unknown): string {
  const first = (err instanceof Error ? err.message : String(err)).split('\n')[0];
  let where: string;
  try {
    const dir = join(tmpdir(), 'localtune-logs');
    mkdirSync(dir, { recursive: true });
    where = join(dir, `error-${new Date().toISOString().replace(/[:.]/g, '-')}-${process.pid}.log`);
    const trace = err instanceof Error ? (err.stack ?? err.message) : String(err);
    writeFileSync(where, `localtune ${process.argv.slice(2).join(' ')}\n${trace}\n`);
  } catch {
    where = 'no log file could be written';
  }
  return `internal error: ${first} (details in ${where})`;
}
