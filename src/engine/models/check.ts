/**
 * Whether a folder is a model LocalTune can use, decided before any graph is built: its config
 * names a supported family, its weights are safetensors (never a pickle), and every tensor the
 * family reads is there under the names transformers resolves, with the shape the config implies.
 * Header reads only (fast enough to run before every command); `findNonFiniteWeight` is the
 * separate, slower scan of the values.
 */
import { basename, join } from 'node:path';
import { UserError } from '../errors';
import { openWeights } from '../formats/weights';
import { readModelConfig } from './config';
import { parseConfig, type Family, type ModelConfig } from './index';
import { resolveWeights, type ResolvedWeights } from './names';

const FLOAT_DTYPES = ['F32', 'F16', 'BF16', 'F64'];

export interface FolderCheck {
  modelType: string;
  family: Family;
  config: ModelConfig;
  /** How many tensors the family reads (all present, all the right shape). */
  tensors: number;
  /** Whether the file stores the base-model prefix (`transformer.`, `model.`). */
  prefixed: boolean;
}

/** Checks `dir`; throws a UserError whose message is one line naming what is wrong. */
export function checkModelFolder(dir: string): FolderCheck {
  const raw = readModelConfig(dir);
  const configFile = join(dir, 'config.json');
  const { family, config } = parseConfig(raw, configFile);
  const weights = resolveWeights(openWeights(dir), family.naming);
  try {
    const expected = family.tensors(config);
    for (const { name, shape } of expected) checkTensor(dir, weights, name, shape);
    return {
      modelType: raw.model_type as string,
      family,
      config,
      tensors: expected.length,
      prefixed: weights.prefixed,
    };
  } finally {
    weights.close();
  }
}

function checkTensor(dir: string, weights: ResolvedWeights, name: string, shape: number[]): void {
  const header = weights.header(name);
  if (!header) {
    const stored = weights.storedNames().filter((n) => !weights.isIgnored(n));
    const some = stored.slice(0, 3).map((n) => `"${n}"`);
    const more = stored.length > some.length ? `, … (${stored.length} in all)` : '';
    throw new UserError(
      `${dir}: tensor "${name}" is missing (with or without its base-model prefix); the weights hold ${some.join(', ') || 'no tensors'}${more}. Is config.json's model_type right for these weights?`,
    );
  }
  const where = `${basename(header.file)}: tensor "${weights.fileName(name)}"`;
  if (!FLOAT_DTYPES.includes(header.dtype))
    throw new UserError(`${join(dir, where)} has dtype ${header.dtype}; expected F32, F16, BF16 or F64`);
  if (header.shape.length !== shape.length || header.shape.some((d, i) => d !== shape[i]))
    throw new UserError(
      `${join(dir, where)} has shape [${header.shape.join(', ')}] but config.json implies [${shape.join(', ')}]; the config and the weights are from different models`,
    );
}

/** The first tensor holding NaN or ±Infinity, or undefined: reads every value (slow on big models). */
export function findNonFiniteWeight(dir: string): string | undefined {
  const raw = readModelConfig(dir);
  const { family, config } = parseConfig(raw, join(dir, 'config.json'));
  const weights = resolveWeights(openWeights(dir), family.naming);
  try {
    for (const { name } of family.tensors(config)) {
      const { data } = weights.read(name);
      for (let i = 0; i < data.length; i++) if (!Number.isFinite(data[i])) return name;
    }
    return undefined;
  } finally {
    weights.close();
  }
}
