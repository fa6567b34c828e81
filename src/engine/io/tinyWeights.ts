// Shared pieces of the fixture-model writers (tinyLlama.ts, tinyBigCode.ts): seeded tensors keyed
// by their Hugging Face names, and atomic JSON files.
import { renameSync, writeFileSync } from 'node:fs';
import { Rng } from '../rng';
import type { WritableTensor } from './safetensors';

/**
 * Named float32 tensors for model.safetensors. Each tensor's values come from its own Rng stream
 * keyed by its name, so they depend only on (seed, name): adding a layer leaves the others unchanged.
 */
export class FixtureTensors {
  readonly tensors: Record<string, WritableTensor> = {};
  private readonly rng: Rng;

  constructor(seed: number) {
    this.rng = new Rng(seed);
  }

  private put(name: string, dims: number[], fill: (data: Float32Array) => void): void {
    const data = new Float32Array(dims.reduce((a, d) => a * d, 1));
    fill(data);
    this.tensors[name] = { dtype: 'F32', shape: dims, data };
  }

  normal(name: string, dims: number[], std: number): void {
    this.put(name, dims, (d) => this.rng.fork(name).fillNormal(d, std));
  }
  zeros(name: string, dims: number[]): void {
    this.put(name, dims, () => {});
  }
  ones(name: string, dims: number[]): void {
    this.put(name, dims, (d) => d.fill(1));
  }
}

export function writeJsonAtomic(path: string, value: object): void {
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, JSON.stringify(value, null, 2) + '\n');
  renameSync(tmp, path);
}
