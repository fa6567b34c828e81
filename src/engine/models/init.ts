/**
 * Random initialisation for training from scratch, by each family's rules (transformers'
 * `_init_weights`): the family lists its weights and how each starts; this draws them.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { UserError } from '../errors';
import { writeSafetensors, type WritableTensor } from '../formats/safetensors';
import { Rng } from '../rng';
import type { RawConfig } from './config';

export interface WeightSpec {
  /** The name save_pretrained writes. */
  name: string;
  shape: number[];
  /** normal: N(0, initializer_range); zeros: biases; ones: norm weights. */
  init: 'normal' | 'zeros' | 'ones';
}

/** The weights of a fresh model, drawn in spec order from one seeded generator (reproducible). */
export function initialWeights(
  specs: WeightSpec[],
  initializerRange: number,
  seed: number,
): Record<string, WritableTensor> {
  const rng = new Rng(seed);
  const tensors: Record<string, WritableTensor> = {};
  for (const s of specs) {
    const data = new Float32Array(s.shape.reduce((a, d) => a * d, 1));
    if (s.init === 'normal') rng.fillNormal(data, initializerRange);
    else if (s.init === 'ones') data.fill(1);
    tensors[s.name] = { dtype: 'F32', shape: s.shape, data };
  }
  return tensors;
}

/**
 * Writes `config.json` and a freshly initialised `model.safetensors` into `dir`. The caller adds
 * the tokenizer files. `specsOf` is the family's weight list for this config.
 */
export function writeInitialModel(dir: string, raw: RawConfig, specs: WeightSpec[], seed: number): void {
  const range = raw.initializer_range ?? 0.02;
  if (typeof range !== 'number' || !(range > 0))
    throw new UserError(`${join(dir, 'config.json')}: "initializer_range" must be a positive number`);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'config.json'), JSON.stringify(raw, null, 2) + '\n');
  writeSafetensors(join(dir, 'model.safetensors'), initialWeights(specs, range, seed), { format: 'pt' });
}
