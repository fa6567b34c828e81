/**
 * The Axolotl config (`job.yml`) for a hand-off plan. Keys are Axolotl's own (its pydantic schema
 * AxolotlInputConfig; test/jobs/handoff checks every key against the list recorded from its source):
 * `{"text"}` files read with `type: completion`, `{"segments"}` files with the template-free
 * `type: input_output`, the held-out split as `test_datasets`.
 */
import { stringify } from 'yaml';
import { ENGINE_OUTPUT_DIR } from './jobFile';
import type { JobDataFiles } from './dataFiles';
import type { HandoffPlan } from './plan';
import { ENGINE_VERSIONS } from './versions';

export const AXOLOTL_CONFIG_FILE = 'job.yml';

type Split = NonNullable<JobDataFiles['validation']>;

function datasetEntries(files: Split): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  if (files.text)
    out.push({ path: files.text, ds_type: 'json', split: 'train', type: 'completion', field: 'text' });
  if (files.segments)
    out.push({ path: files.segments, ds_type: 'json', split: 'train', type: 'input_output' });
  return out;
}

export function axolotlConfig(plan: HandoffPlan, files: JobDataFiles): Record<string, unknown> {
  const lora =
    plan.mode === 'lora'
      ? {
          adapter: 'lora',
          lora_r: plan.lora.r,
          lora_alpha: plan.lora.alpha,
          lora_dropout: plan.lora.dropout,
          lora_target_modules: plan.lora.targets,
          ...(plan.lora.rslora ? { peft_use_rslora: true } : {}),
        }
      : {};
  const evaluation = files.validation
    ? {
        test_datasets: datasetEntries(files.validation),
        ...(plan.evalEvery > 0 ? { eval_steps: plan.evalEvery } : { eval_strategy: 'no' }),
      }
    : {};
  const best =
    plan.keepBest && files.validation
      ? { load_best_model_at_end: true, metric_for_best_model: 'eval_loss', greater_is_better: false }
      : {};
  return {
    base_model: plan.baseModel,
    ...lora,
    datasets: datasetEntries(files.train),
    // The held-out split is ours (whole files), never a random share of the training rows.
    val_set_size: 0,
    ...evaluation,
    dataset_prepared_path: './prepared',
    output_dir: `./${ENGINE_OUTPUT_DIR}`,
    // Documents are packed back to back as our trainer packs them.
    sample_packing: true,
    sequence_len: plan.seqLen,
    // Masked tokens (chat prompts) stay untrained, as in our loss weights.
    train_on_inputs: false,
    micro_batch_size: plan.microBatchSize,
    gradient_accumulation_steps: plan.gradientAccumulation,
    ...(plan.epochs === null ? { max_steps: plan.steps } : { num_epochs: plan.epochs }),
    optimizer: 'adamw_torch',
    learning_rate: plan.lr,
    lr_scheduler: 'cosine',
    cosine_min_lr_ratio: plan.minLrRatio,
    warmup_steps: plan.warmupSteps,
    weight_decay: plan.weightDecay,
    max_grad_norm: plan.clipNorm,
    ...(plan.checkpointEvery > 0 ? { save_steps: plan.checkpointEvery } : {}),
    ...(plan.patience > 0 ? { early_stopping_patience: plan.patience } : {}),
    ...best,
    // One loss per step: the history LocalTune's dashboard draws after the import.
    logging_steps: 1,
    seed: plan.seed,
    save_safetensors: true,
    bf16: 'auto',
    special_tokens: { eos_token: plan.eosToken },
  };
}

export function axolotlYaml(plan: HandoffPlan, files: JobDataFiles): string {
  const header = [
    `# Written by LocalTune for Axolotl ${ENGINE_VERSIONS.axolotl} (README.md: how to launch, how to bring the result home).`,
    plan.fimTokens.length
      ? `# FIM documents use the tokenizer's own markers (${plan.fimTokens.join(' ')}): no tokens are added.`
      : null,
  ].filter((l): l is string => l !== null);
  return header.join('\n') + '\n' + stringify(axolotlConfig(plan, files), { lineWidth: 0 });
}
