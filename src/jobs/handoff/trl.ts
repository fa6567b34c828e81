/**
 * The TRL job (`train.py`): SFTTrainer with an SFTConfig and a PEFT LoraConfig whose keyword
 * arguments are data (`trlArguments`, checked in test/jobs/handoff against the fields recorded from
 * TRL's, transformers' and PEFT's sources). The script tokenizes our JSONL rows itself into
 * `input_ids` + `labels` (TRL takes such a dataset as is), so the loss mask is ours exactly.
 */
import { ENGINE_OUTPUT_DIR } from './jobFile';
import type { JobDataFiles } from './dataFiles';
import type { HandoffPlan } from './plan';
import { ENGINE_VERSIONS } from './versions';

export const TRL_SCRIPT_FILE = 'train.py';

export function trlArguments(
  plan: HandoffPlan,
  files: JobDataFiles,
): { sft: Record<string, unknown>; lora: Record<string, unknown> | null } {
  const evaluates = files.validation !== null && plan.evalEvery > 0;
  const sft: Record<string, unknown> = {
    output_dir: ENGINE_OUTPUT_DIR,
    max_length: plan.seqLen,
    // Documents packed back to back and cut at max_length, as our trainer's windows are.
    packing: true,
    packing_strategy: 'wrapped',
    per_device_train_batch_size: plan.microBatchSize,
    gradient_accumulation_steps: plan.gradientAccumulation,
    ...(plan.epochs === null ? { max_steps: plan.steps } : { num_train_epochs: plan.epochs }),
    optim: 'adamw_torch',
    learning_rate: plan.lr,
    lr_scheduler_type: 'cosine_with_min_lr',
    lr_scheduler_kwargs: { min_lr_rate: plan.minLrRatio },
    warmup_steps: plan.warmupSteps,
    weight_decay: plan.weightDecay,
    max_grad_norm: plan.clipNorm,
    logging_steps: 1,
    eval_strategy: evaluates ? 'steps' : 'no',
    ...(evaluates ? { eval_steps: plan.evalEvery, per_device_eval_batch_size: plan.microBatchSize } : {}),
    ...(plan.checkpointEvery > 0 ? { save_steps: plan.checkpointEvery } : { save_strategy: 'no' }),
    ...(plan.keepBest && evaluates
      ? { load_best_model_at_end: true, metric_for_best_model: 'eval_loss', greater_is_better: false }
      : {}),
    seed: plan.seed,
    report_to: 'none',
  };
  const lora =
    plan.mode === 'lora'
      ? {
          r: plan.lora.r,
          lora_alpha: plan.lora.alpha,
          lora_dropout: plan.lora.dropout,
          target_modules: plan.lora.targets,
          use_rslora: plan.lora.rslora,
          bias: 'none',
          task_type: 'CAUSAL_LM',
        }
      : null;
  return { sft, lora };
}

/** A JSON value as a Python literal. */
export function pythonLiteral(value: unknown): string {
  if (value === null || value === undefined) return 'None';
  if (value === true) return 'True';
  if (value === false) return 'False';
  if (typeof value === 'number' || typeof value === 'string') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(pythonLiteral).join(', ')}]`;
  const entries = Object.entries(value as Record<string, unknown>);
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}: ${pythonLiteral(v)}`).join(', ')}}`;
}

export function trlScript(plan: HandoffPlan, files: JobDataFiles): string {
  const { sft, lora } = trlArguments(plan, files);
  const list = (split: { text: string | null; segments: string | null } | null) =>
    pythonLiteral(split ? [split.text, split.segments].filter(Boolean) : []);
  const v = ENGINE_VERSIONS;
  return `"""
Written by LocalTune for TRL ${v.trl} (PEFT ${v.peft}, transformers ${v.transformers}, Accelerate ${v.accelerate}).
One GPU:      python ${TRL_SCRIPT_FILE}
Several GPUs: accelerate launch ${TRL_SCRIPT_FILE}
The adapter and trainer_state.json land in ./${ENGINE_OUTPUT_DIR}/; bring them home with
\`localtune job import <this folder>\`.
"""
import json

import torch
from datasets import Dataset
from peft import LoraConfig
from transformers import AutoTokenizer, EarlyStoppingCallback
from trl import SFTConfig, SFTTrainer

BASE_MODEL = ${pythonLiteral(plan.baseModel)}
TRAIN_FILES = ${list(files.train)}
VALIDATION_FILES = ${list(files.validation)}
SFT_ARGS = ${pythonLiteral(sft)}
LORA_ARGS = ${pythonLiteral(lora)}
PATIENCE = ${plan.patience}

tokenizer = AutoTokenizer.from_pretrained(BASE_MODEL)
# The ids the tokenizer puts before a text (a BOS, or none): never trained on, as in LocalTune.
PREFIX = tokenizer("")["input_ids"]


def example(row):
    """A row as LocalTune trains it: text + EOS with no loss on the prefix; segments as labelled."""
    if "text" in row:
        ids = tokenizer(row["text"])["input_ids"] + [tokenizer.eos_token_id]
        return {"input_ids": ids, "labels": [-100] * len(PREFIX) + ids[len(PREFIX) :]}
    ids, labels = [], []
    for segment in row["segments"]:
        part = tokenizer(segment["text"], add_special_tokens=False)["input_ids"]
        ids += part
        labels += part if segment["label"] else [-100] * len(part)
    return {"input_ids": ids, "labels": labels}


def dataset(paths):
    rows = []
    for path in paths:
        with open(path, encoding="utf-8") as f:
            rows += [example(json.loads(line)) for line in f if line.strip()]
    return Dataset.from_list(rows) if rows else None


bf16 = torch.cuda.is_available() and torch.cuda.is_bf16_supported()
trainer = SFTTrainer(
    model=BASE_MODEL,
    args=SFTConfig(**SFT_ARGS, bf16=bf16),
    train_dataset=dataset(TRAIN_FILES),
    eval_dataset=dataset(VALIDATION_FILES),
    processing_class=tokenizer,
    peft_config=LoraConfig(**LORA_ARGS) if LORA_ARGS else None,
    callbacks=[EarlyStoppingCallback(early_stopping_patience=PATIENCE)] if PATIENCE else None,
)
trainer.train()
trainer.save_model()
trainer.save_state()
`;
}
