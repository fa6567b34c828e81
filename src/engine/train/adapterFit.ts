/**
 * Trained values checked against the base model before any graph is built: an adapter (or a
 * checkpoint) made for another model gets one line naming the tensor, not an error from deep inside
 * the graph builder or ONNX Runtime.
 */
import { UserError } from '../errors';
import { loadAdapter, type Adapter } from '../formats/peft';
import type { LoadedModel } from '../models';

type Shaped = ReadonlyMap<string, { shape: readonly number[] }>;

/** LoRA tensors `<module>.lora_A.weight` [r, in] and `.lora_B.weight` [out, r] against the base's `<module>.weight`. */
export function checkAdapterFits(model: LoadedModel, values: Shaped, r: number, where: string): void {
  for (const [name, { shape }] of values) {
    const m = /^(.*)\.lora_([AB])\.weight$/.exec(name);
    if (!m) throw new UserError(`${where}: tensor ${name} is not a LoRA A/B matrix`);
    const base = baseShape(model, `${m[1]}.weight`, where, name);
    if (base.length !== 2)
      throw new UserError(`${where}: ${name} adapts ${m[1]}, which is not a matrix in ${model.dir}`);
    const [inF, outF] = model.family.fanInFanOut ? base : [base[1], base[0]];
    const want = m[2] === 'A' ? [r, inF] : [outF, r];
    if (shape.length !== 2 || shape[0] !== want[0] || shape[1] !== want[1])
      throw new UserError(
        `${where}: ${name} has shape [${shape.join(', ')}] but the base model ${model.dir} needs [${want.join(', ')}]: was it trained on another model?`,
      );
  }
}

/** Full fine-tuning values (HF names) against the base's tensors of the same names. */
export function checkWeightsFit(model: LoadedModel, values: Shaped, where: string): void {
  for (const [name, { shape }] of values) {
    const base = baseShape(model, name, where, name);
    if (base.length !== shape.length || base.some((d, i) => d !== shape[i]))
      throw new UserError(
        `${where}: ${name} has shape [${shape.join(', ')}] but the base model ${model.dir} has [${base.join(', ')}]: was it trained on another model?`,
      );
  }
}

function baseShape(model: LoadedModel, weight: string, where: string, name: string): number[] {
  try {
    return model.weights.read(weight).shape;
  } catch {
    throw new UserError(
      `${where}: ${name} needs ${weight}, which the base model ${model.dir} does not have: was it trained on another model?`,
    );
  }
}

/** A PEFT adapter folder, loaded and checked against the base model it is about to be applied to. */
export function loadAdapterFor(model: LoadedModel, dir: string): Adapter {
  const adapter = loadAdapter(dir);
  checkAdapterFits(model, adapter.values, adapter.settings.r, dir);
  for (const [name, { data }] of adapter.values)
    if (!data.every(Number.isFinite))
      throw new UserError(`${dir}: ${name} holds NaN or infinite values; the adapter is damaged`);
  return adapter;
}
