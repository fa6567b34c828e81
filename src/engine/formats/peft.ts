/**
 * PEFT LoRA adapters on disk, both ways: `adapter_config.json` + `adapter_model.safetensors`
 * with PEFT's key names (`base_model.model.<module>.lora_A.weight` [r, in], `.lora_B.weight`
 * [out, r]), so Python PEFT loads what we save and we load what PEFT saves.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { UserError } from '../errors';
import { SafetensorsReader, writeSafetensors, type WritableTensor } from './safetensors';

const PREFIX = 'base_model.model.';

/** A LoRA adapter's settings, as PEFT's adapter_config.json holds them. */
export interface LoraSettings {
  r: number;
  alpha: number;
  /** Module names (last path component), e.g. c_attn, c_proj, c_fc. */
  targets: string[];
  dropout: number;
  rslora: boolean;
}

export interface Adapter {
  settings: LoraSettings;
  baseModel: string;
  /** LoRA matrices by module name, e.g. `transformer.h.0.attn.c_attn.lora_A.weight`. */
  values: Map<string, { data: Float32Array; shape: number[] }>;
}

export function saveAdapter(dir: string, adapter: Adapter, o: { fanInFanOut: boolean }): void {
  mkdirSync(dir, { recursive: true });
  const s = adapter.settings;
  const config = {
    peft_type: 'LORA',
    task_type: 'CAUSAL_LM',
    r: s.r,
    lora_alpha: s.alpha,
    target_modules: s.targets,
    lora_dropout: s.dropout,
    fan_in_fan_out: o.fanInFanOut,
    bias: 'none',
    use_rslora: s.rslora,
    base_model_name_or_path: adapter.baseModel,
    inference_mode: true,
    init_lora_weights: true,
    modules_to_save: null,
  };
  const tensors: Record<string, WritableTensor> = {};
  for (const [name, v] of adapter.values)
    tensors[PREFIX + name] = { dtype: 'F32', shape: v.shape, data: v.data };
  writeSafetensors(join(dir, 'adapter_model.safetensors'), tensors, { format: 'pt' });
  const tmp = join(dir, `adapter_config.json.tmp-${process.pid}`);
  writeFileSync(tmp, JSON.stringify(config, null, 2) + '\n');
  renameSync(tmp, join(dir, 'adapter_config.json'));
}

export function loadAdapter(dir: string): Adapter {
  const configFile = join(dir, 'adapter_config.json');
  const weightsFile = join(dir, 'adapter_model.safetensors');
  if (!existsSync(configFile))
    throw new UserError(`${configFile}: missing; an adapter folder needs adapter_config.json`);
  if (!existsSync(weightsFile)) {
    const hint = existsSync(join(dir, 'adapter_model.bin'))
      ? ' (only a pickle adapter_model.bin is present; save it as safetensors)'
      : '';
    throw new UserError(`${weightsFile}: missing${hint}`);
  }
  let raw: Record<string, unknown>;
  try {
    raw = JSON.parse(readFileSync(configFile, 'utf8'));
  } catch (err) {
    throw new UserError(`${configFile}: not valid JSON (${(err as Error).message})`);
  }
  if (raw.peft_type !== 'LORA')
    throw new UserError(
      `${configFile}: peft_type ${JSON.stringify(raw.peft_type)} is not supported (LORA only)`,
    );
  const r = raw.r;
  const alpha = raw.lora_alpha;
  if (typeof r !== 'number' || typeof alpha !== 'number')
    throw new UserError(`${configFile}: "r" and "lora_alpha" must be numbers`);
  const targets = Array.isArray(raw.target_modules)
    ? (raw.target_modules as string[])
    : typeof raw.target_modules === 'string'
      ? [raw.target_modules]
      : [];
  const reader = SafetensorsReader.open(weightsFile);
  const values = new Map<string, { data: Float32Array; shape: number[] }>();
  try {
    for (const key of reader.names()) {
      // PEFT saves `...lora_A.weight`; in-memory state dicts carry the adapter name (`lora_A.default.weight`).
      const name = key.replace(PREFIX, '').replace(/\.lora_([AB])\.[^.]+\.weight$/, '.lora_$1.weight');
      values.set(name, { data: reader.readFloat32(key), shape: reader.info(key).shape });
    }
  } finally {
    reader.close();
  }
  return {
    settings: { r, alpha, targets, dropout: Number(raw.lora_dropout ?? 0), rslora: raw.use_rslora === true },
    baseModel: String(raw.base_model_name_or_path ?? ''),
    values,
  };
}
