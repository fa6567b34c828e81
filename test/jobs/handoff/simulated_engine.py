"""
A stand-in for the GPU trainer a LocalTune job is handed to (Axolotl over HF Trainer + PEFT), for
the hand-off tests: it reads the job's own config (job.yml, as Axolotl does), trains LoRA with
PyTorch autograd on the exported data for the configured optimizer steps, and saves what Axolotl
saves — `output/adapter_config.json` + `adapter_model.safetensors` with PEFT's key names, and
`output/checkpoint-N/` with the same adapter and HF Trainer's `trainer_state.json` (`log_history`).

The model is hf_reference.py's transcription of transformers' forward pass (no transformers or
tokenizers package is installed here), so the caller tokenizes the exported JSONL the way Axolotl
does (completion rows: the tokenizer's prefix + text + EOS; input_output rows: each segment on its
own, labels -100 where `label` is false) and passes the ids in TOKENS_JSON.

Usage: python3 simulated_engine.py JOB_DIR TOKENS_JSON
TOKENS_JSON: {"train": [{"input_ids": [...], "labels": [...]}], "validation": [...]}
"""
import json
import math
import os
import struct
import sys

import torch
import torch.nn.functional as F
import yaml

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "engine", "models"))
from hf_reference import bigcode_logits, gpt2_logits, llama_logits, load_state_dict, with_base_prefix  # noqa: E402

LOGITS = {"gpt2": gpt2_logits, "llama": llama_logits, "qwen2": llama_logits, "gpt_bigcode": bigcode_logits}


def packed_blocks(rows, length):
    """Rows packed back to back (sample packing) and cut into blocks of `length` tokens."""
    ids = [t for r in rows for t in r["input_ids"]]
    labels = [t for r in rows for t in r["labels"]]
    n = len(ids) // length
    return [(torch.tensor(ids[i * length : (i + 1) * length]), torch.tensor(labels[i * length : (i + 1) * length])) for i in range(n)]


def block_loss(cfg, W, block):
    ids, labels = block
    logits = LOGITS[cfg["model_type"]](cfg, W, ids[None])[0]
    return F.cross_entropy(logits[:-1], labels[1:], ignore_index=-100)


def lr_factor(step, warmup, total, min_ratio):
    """transformers' get_cosine_with_min_lr_schedule_with_warmup."""
    if step < warmup:
        return step / max(1, warmup)
    progress = (step - warmup) / max(1, total - warmup)
    return min_ratio + (1 - min_ratio) * 0.5 * (1 + math.cos(math.pi * progress))


def save_safetensors(path, tensors):
    header, offset, blobs = {"__metadata__": {"format": "pt"}}, 0, []
    for name, t in tensors.items():
        data = t.detach().contiguous().float().numpy().tobytes()
        header[name] = {"dtype": "F32", "shape": list(t.shape), "data_offsets": [offset, offset + len(data)]}
        offset += len(data)
        blobs.append(data)
    text = json.dumps(header).encode()
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + b"".join(blobs))


def save_adapter(out, job, lora, fan_in_fan_out):
    os.makedirs(out, exist_ok=True)
    tensors = {}
    for module, (A, B) in lora.items():
        tensors[f"base_model.model.{module}.lora_A.weight"] = A
        tensors[f"base_model.model.{module}.lora_B.weight"] = B
    save_safetensors(f"{out}/adapter_model.safetensors", tensors)
    config = {
        "alpha_pattern": {}, "auto_mapping": None, "base_model_name_or_path": job["base_model"], "bias": "none",
        "fan_in_fan_out": fan_in_fan_out, "inference_mode": True, "init_lora_weights": True,
        "layers_pattern": None, "layers_to_transform": None, "lora_alpha": job["lora_alpha"],
        "lora_dropout": job["lora_dropout"], "modules_to_save": None, "peft_type": "LORA", "r": job["lora_r"],
        "rank_pattern": {}, "revision": None, "target_modules": sorted(job["lora_target_modules"]),
        "task_type": "CAUSAL_LM", "use_dora": False, "use_rslora": bool(job.get("peft_use_rslora")),
    }
    with open(f"{out}/adapter_config.json", "w") as f:
        json.dump(config, f, indent=2)


def main():
    job_dir, tokens_file = sys.argv[1], sys.argv[2]
    torch.manual_seed(0)
    torch.set_num_threads(1)
    with open(f"{job_dir}/job.yml") as f:
        job = yaml.safe_load(f)
    with open(tokens_file) as f:
        tokens = json.load(f)
    with open(f"{job['base_model']}/config.json") as f:
        cfg = json.load(f)
    W = with_base_prefix(cfg, load_state_dict(job["base_model"]))
    fan_in_fan_out = cfg["model_type"] == "gpt2"
    r, scale = job["lora_r"], job["lora_alpha"] / job["lora_r"]
    lora = {}
    for name, w in W.items():
        module = name[: -len(".weight")]
        if name.endswith(".weight") and module.split(".")[-1] in job["lora_target_modules"] and w.dim() == 2:
            out_f, in_f = (w.shape[1], w.shape[0]) if fan_in_fan_out else w.shape
            bound = 1 / math.sqrt(in_f)  # PEFT: kaiming_uniform_(A, a=sqrt(5)); B = 0
            lora[module] = (torch.empty(r, in_f).uniform_(-bound, bound).requires_grad_(), torch.zeros(out_f, r, requires_grad=True))
    params = [p for pair in lora.values() for p in pair]
    opt = torch.optim.AdamW(params, lr=job["learning_rate"], weight_decay=job["weight_decay"])

    def adapted():
        W2 = dict(W)
        for module, (A, B) in lora.items():
            delta = (B @ A) * scale
            W2[f"{module}.weight"] = W[f"{module}.weight"] + (delta.T if fan_in_fan_out else delta)
        return W2

    L = job["sequence_len"]
    train = packed_blocks(tokens["train"], L)
    held_out = packed_blocks(tokens.get("validation", []), L)
    total, warmup = job["max_steps"], job["warmup_steps"]
    micro, accum = job["micro_batch_size"], job["gradient_accumulation_steps"]
    history, at = [], 0
    for step in range(1, total + 1):
        for group in opt.param_groups:
            group["lr"] = job["learning_rate"] * lr_factor(step - 1, warmup, total, job["cosine_min_lr_ratio"])
        opt.zero_grad()
        W2 = adapted()
        loss_sum = 0.0
        for _ in range(micro * accum):
            loss = block_loss(cfg, W2, train[at % len(train)]) / (micro * accum)
            loss.backward(retain_graph=True)
            loss_sum += loss.item()
            at += 1
        grad_norm = torch.nn.utils.clip_grad_norm_(params, job["max_grad_norm"]).item()
        history.append({"epoch": at / len(train), "grad_norm": grad_norm, "learning_rate": opt.param_groups[0]["lr"], "loss": loss_sum, "step": step})
        opt.step()
        if held_out and job.get("eval_steps") and step % job["eval_steps"] == 0:
            with torch.no_grad():
                W2 = adapted()
                ev = sum(block_loss(cfg, W2, b).item() for b in held_out) / len(held_out)
            history.append({"epoch": at / len(train), "eval_loss": ev, "step": step})
    history.append({"epoch": at / len(train), "step": total, "total_flos": 0, "train_loss": sum(h["loss"] for h in history if "loss" in h) / total, "train_runtime": 1.5})
    out = f"{job_dir}/{job['output_dir']}"
    save_adapter(out, job, lora, fan_in_fan_out)
    checkpoint = f"{out}/checkpoint-{total}"
    save_adapter(checkpoint, job, lora, fan_in_fan_out)
    state = {"best_metric": None, "best_model_checkpoint": None, "epoch": at / len(train), "global_step": total, "is_local_process_zero": True, "is_world_process_zero": True, "log_history": history, "logging_steps": job["logging_steps"], "max_steps": total, "num_train_epochs": 1, "train_batch_size": micro}
    with open(f"{checkpoint}/trainer_state.json", "w") as f:
        json.dump(state, f, indent=2)
    print(json.dumps({"steps": total, "first_loss": history[0]["loss"], "last_loss": [h for h in history if "loss" in h][-1]["loss"]}))


if __name__ == "__main__":
    main()
