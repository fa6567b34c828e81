"""
A float64 reference for LocalTune's optimizer steps, written from the definitions (not from our
code): the loss is the token-weighted mean cross-entropy over every window of the step (so
micro-batches only split the sum), gradients by PyTorch autograd, global-norm clipping as
torch.nn.utils.clip_grad_norm_ does it, AdamW as torch.optim.AdamW (decoupled decay on every
weight), and the learning rate: linear warmup to the peak over `warmup` steps (step s gets
peak*(s+1)/warmup), then cosine decay to min_ratio*peak at the last step.

Usage: /usr/bin/python3 step_reference.py SPEC.json  (model_dir, ids, weights, seq_len, steps, lr,
warmup, min_ratio, weight_decay, clip) — every window of the stream is in every step.
Prints JSON: per-step loss, grad_norm, lr, and the final weights by name.
"""
import json
import math
import os
import sys

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "models"))
from hf_reference import gpt2_logits, load_state_dict, with_base_prefix  # noqa: E402


def lr_at(step, s):
    if s["warmup"] > 0 and step < s["warmup"]:
        return s["lr"] * (step + 1) / s["warmup"]
    span = max(1, s["steps"] - s["warmup"])
    progress = min(1.0, (step - s["warmup"]) / span)
    return s["lr"] * (s["min_ratio"] + (1 - s["min_ratio"]) * 0.5 * (1 + math.cos(math.pi * progress)))


def main():
    torch.set_num_threads(1)
    torch.set_default_dtype(torch.float64)  # the reference's own constants too (masks, scales)
    with open(sys.argv[1]) as f:
        s = json.load(f)
    with open(os.path.join(s["model_dir"], "config.json")) as f:
        cfg = json.load(f)
    W = {k: v.double().requires_grad_(True) for k, v in with_base_prefix(cfg, load_state_dict(s["model_dir"])).items()}
    T = s["seq_len"]
    ids = torch.tensor(s["ids"])
    weights = torch.tensor(s["weights"], dtype=torch.float64)
    n = (len(s["ids"]) - 1) // T
    x = ids[: n * T].view(n, T)
    y = ids[1 : n * T + 1].view(n, T)
    w = weights[1 : n * T + 1].view(n, T)
    params = list(W.values())
    opt = torch.optim.AdamW(params, lr=s["lr"], betas=(0.9, 0.999), eps=1e-8, weight_decay=s["weight_decay"])
    out = {"loss": [], "grad_norm": [], "lr": []}
    for step in range(s["steps"]):
        opt.zero_grad()
        logp = F.log_softmax(gpt2_logits(cfg, W, x), dim=-1)
        nll = -logp.gather(-1, y.unsqueeze(-1)).squeeze(-1)
        loss = (nll * w).sum() / w.sum()
        loss.backward()
        norm = torch.nn.utils.clip_grad_norm_(params, s["clip"])
        lr = lr_at(step, s)
        for g in opt.param_groups:
            g["lr"] = lr
        opt.step()
        out["loss"].append(loss.item())
        out["grad_norm"].append(norm.item())
        out["lr"].append(lr)
    out["weights"] = {k: v.detach().flatten().tolist() for k, v in W.items()}
    print(json.dumps(out))


if __name__ == "__main__":
    main()
