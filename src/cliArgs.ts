/** Flag parsing shared by the CLI's commands. */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { UserError } from './engine/errors';

export interface CliIo {
  out: (line: string) => void;
  err: (line: string) => void;
}

/** parseArgs with errors turned into one-line user errors. */
export function parseFlags<T extends NonNullable<ParseArgsConfig['options']>>(argv: string[], options: T) {
  try {
    return parseArgs({ args: argv, options, allowPositionals: true, strict: true });
  } catch (err) {
    throw new UserError((err as Error).message.split('\n')[0]);
  }
}

export function numberFlag(
  value: string | undefined,
  name: string,
  fallback: number,
  integer = true,
): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isFinite(n) || (integer && !Number.isInteger(n)) || n < 0)
    throw new UserError(
      `--${name} must be a ${integer ? 'non-negative integer' : 'non-negative number'} (got "${value}")`,
    );
  return n;
}
