/**
 * An adapter another trainer saved, checked for what LocalTune can apply: plain LoRA (no DoRA,
 * no trained biases or extra full modules, no per-layer ranks) on the linear layers our graphs
 * adapt, shaped for this base model, and made for it by name when both name a hub model.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { UserError } from '../../engine/errors';
import type { Adapter } from '../../engine/formats/peft';
import { SafetensorsReader } from '../../engine/formats/safetensors';
import type { LoadedModel } from '../../engine/models';
import { loadAdapterFor } from '../../engine/train/adapterFit';

/** adapter_config.json settings PEFT may save that change what the adapter computes. */
const UNSUPPORTED: [string, (v: unknown) => boolean, string][] = [
  ['use_dora', (v) => v === true, 'DoRA'],
  ['lora_bias', (v) => v === true, 'trained LoRA biases'],
  ['bias', (v) => v !== undefined && v !== 'none', 'trained biases'],
  ['modules_to_save', (v) => Array.isArray(v) && v.length > 0, 'fully trained extra modules'],
  ['rank_pattern', (v) => isNonEmptyObject(v), 'per-layer ranks'],
  ['alpha_pattern', (v) => isNonEmptyObject(v), 'per-layer alphas'],
  ['layer_replication', (v) => Array.isArray(v) && v.length > 0, 'layer replication'],
];

function isNonEmptyObject(v: unknown): boolean {
  return typeof v === 'object' && v !== null && Object.keys(v).length > 0;
}

const HUB_ID = /^[\w.-]+\/[\w.-]+$/;

export function loadImportedAdapter(model: LoadedModel, dir: string, expectedBase: string | null): Adapter {
  const configFile = join(dir, 'adapter_config.json');
  let raw: Record<string, unknown> = {};
  try {
    raw = JSON.parse(readFileSync(configFile, 'utf8')) as Record<string, unknown>;
  } catch {
    // loadAdapterFor names a missing or broken config
  }
  for (const [key, used, what] of UNSUPPORTED)
    if (used(raw[key]))
      throw new UserError(
        `${configFile}: ${key} ${JSON.stringify(raw[key])} (${what}) is not supported: LocalTune applies plain LoRA only; train again without it`,
      );
  const named = typeof raw.base_model_name_or_path === 'string' ? raw.base_model_name_or_path : '';
  if (expectedBase && HUB_ID.test(named) && HUB_ID.test(expectedBase) && named !== expectedBase)
    throw new UserError(
      `${configFile}: the adapter was trained on ${named}, this job on ${expectedBase}; import it with its own base model`,
    );
  const targets = adaptedModules(model, dir, raw);
  const adapter = loadAdapterFor(model, dir);
  // "all-linear" and regexes become the module names the tensors adapt, as our graphs match them.
  return { ...adapter, settings: { ...adapter.settings, targets } };
}

/**
 * The module names the adapter's tensors adapt (`…q_proj.lora_A.weight` → q_proj), each one a
 * linear layer our graphs adapt (embeddings and the head are not), as is every listed target.
 */
function adaptedModules(model: LoadedModel, dir: string, raw: Record<string, unknown>): string[] {
  const supported = model.family.defaultLoraTargets;
  const listed = Array.isArray(raw.target_modules) ? (raw.target_modules as unknown[]) : [];
  const modules = new Set(listed.filter((t): t is string => typeof t === 'string'));
  const weightsFile = join(dir, 'adapter_model.safetensors');
  const found = new Set<string>();
  try {
    const reader = SafetensorsReader.open(weightsFile);
    for (const name of reader.names()) {
      const m = /\.([^.]+)\.lora_(?:embedding_)?[AB](?:\.[^.]+)?(?:\.weight)?$/.exec(name);
      if (m) found.add(m[1]);
    }
    reader.close();
  } catch {
    // loadAdapterFor names a missing or broken weights file
  }
  const unsupported = [...new Set([...modules, ...found])].filter((t) => !supported.includes(t));
  if (unsupported.length > 0)
    throw new UserError(
      `${join(dir, 'adapter_config.json')}: target module ${unsupported.join(', ')} is not supported for ${model.modelType}: LocalTune adapts ${supported.join(', ')}`,
    );
  return [...found];
}
