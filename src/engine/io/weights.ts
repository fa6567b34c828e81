/** A model folder's weights, read tensor by tensor as float32 (never the whole file at once). */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { UserError } from '../errors';
import type { WeightSource } from '../models/params';
import { SafetensorsReader } from './safetensors';

export function openWeights(dir: string): WeightSource & { close(): void } {
  const file = join(dir, 'model.safetensors');
  if (!existsSync(file)) {
    if (existsSync(join(dir, 'pytorch_model.bin')))
      throw new UserError(
        `${dir}: only a pickle checkpoint (pytorch_model.bin) is present; LocalTune never runs pickled code — use a revision with model.safetensors`,
      );
    throw new UserError(`${dir}: no model.safetensors found`);
  }
  const reader = SafetensorsReader.open(file);
  return {
    read: (name) => ({ data: reader.readFloat32(name), shape: reader.info(name).shape }),
    close: () => reader.close(),
  };
}
