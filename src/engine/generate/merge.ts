/**
 * LoRA merged into the base weights, W' = W + (α/r)·B·A, as a weight source: an inference graph
 * (and an exported model) then runs at the base model's cost, with no adapter path.
 * PEFT's A is [r, in] and B [out, r], so B·A is [out, in]: nn.Linear weights ([out, in]: Llama,
 * Qwen2, GPTBigCode) add it as is; GPT-2's Conv1D weights ([in, out]) add its transpose.
 */
import { UserError } from '../errors';
import type { Adapter } from '../formats/peft';
import { loraScale } from '../models/lora';
import type { WeightSource } from '../formats/weights';

export interface MergedWeights extends WeightSource {
  /** Adapter modules not merged so far: after a graph is built, any left means the adapter does not fit. */
  unmerged(): string[];
}

export function mergeLora(
  source: WeightSource,
  adapter: Adapter,
  o: { fanInFanOut: boolean },
): MergedWeights {
  const scale = loraScale(adapter.settings);
  const modules = new Set<string>();
  for (const name of adapter.values.keys()) {
    const m = /^(.*)\.lora_A\.weight$/.exec(name);
    if (m) modules.add(m[1]);
  }
  const merged = new Set<string>();
  return {
    read(name) {
      const w = source.read(name);
      const module = name.endsWith('.weight') ? name.slice(0, -'.weight'.length) : '';
      if (!modules.has(module)) return w;
      const a = adapter.values.get(`${module}.lora_A.weight`)!; // [r, in]
      const b = adapter.values.get(`${module}.lora_B.weight`);
      if (!b) throw new UserError(`adapter: ${module}.lora_A.weight has no matching lora_B.weight`);
      const [r, inF] = a.shape;
      const outF = b.shape[0];
      const [rows, cols] = w.shape;
      const expected = o.fanInFanOut ? [inF, outF] : [outF, inF];
      if (b.shape[1] !== r || rows !== expected[0] || cols !== expected[1])
        throw new UserError(
          `adapter: ${module} has A [${a.shape}] and B [${b.shape}], which do not fit the model's weight [${w.shape}]`,
        );
      const data = Float32Array.from(w.data);
      const row = new Float64Array(inF);
      for (let i = 0; i < outF; i++) {
        row.fill(0);
        for (let k = 0; k < r; k++) {
          const bik = b.data[i * r + k];
          if (bik === 0) continue;
          for (let j = 0; j < inF; j++) row[j] += bik * a.data[k * inF + j];
        }
        // (B·A)[i, j] goes to W[i, j] (Linear) or W[j, i] (Conv1D).
        if (o.fanInFanOut) for (let j = 0; j < inF; j++) data[j * outF + i] += scale * row[j];
        else for (let j = 0; j < inF; j++) data[i * inF + j] += scale * row[j];
      }
      merged.add(module);
      return { data, shape: w.shape };
    },
    unmerged: () => [...modules].filter((m) => !merged.has(m)),
  };
}
