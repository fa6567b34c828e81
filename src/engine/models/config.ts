/** Reading a Hugging Face model folder's config.json, with errors a user can act on. */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { UserError } from '../errors';

export type RawConfig = Record<string, unknown>;

export function readModelConfig(modelDir: string): RawConfig {
  if (!existsSync(modelDir)) throw new UserError(`${modelDir}: no such model folder`);
  return readModelConfigFile(join(modelDir, 'config.json'));
}

/** A config.json file (a model folder's, or an architecture for training from scratch). */
export function readModelConfigFile(file: string): RawConfig {
  if (!existsSync(file))
    throw new UserError(`${file}: missing; a model folder needs config.json (as saved by transformers)`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new UserError(`${file}: not valid JSON (${(err as Error).message})`);
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed))
    throw new UserError(`${file}: expected a JSON object`);
  return parsed as RawConfig;
}

/** Typed field access that names the file and the field on failure. */
export function configField(raw: RawConfig, file: string) {
  const get = (key: string) => raw[key];
  return {
    int(key: string, fallback?: number): number {
      const v = get(key) ?? fallback;
      if (typeof v !== 'number' || !Number.isInteger(v) || v <= 0)
        throw new UserError(
          `${file}: "${key}" must be a positive integer (found ${JSON.stringify(get(key))})`,
        );
      return v;
    },
    num(key: string, fallback?: number): number {
      const v = get(key) ?? fallback;
      if (typeof v !== 'number' || !Number.isFinite(v))
        throw new UserError(`${file}: "${key}" must be a number`);
      return v;
    },
    str(key: string, fallback?: string): string {
      const v = get(key) ?? fallback;
      if (typeof v !== 'string') throw new UserError(`${file}: "${key}" must be a string`);
      return v;
    },
    bool(key: string, fallback: boolean): boolean {
      const v = get(key) ?? fallback;
      if (typeof v !== 'boolean') throw new UserError(`${file}: "${key}" must be true or false`);
      return v;
    },
  };
}
