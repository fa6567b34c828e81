#!/usr/bin/python3
"""PyTorch training peer for LocalTune's training benchmark.

A self-contained GPT-2 (nanoGPT style, Hugging Face module names), random
init, AdamW, full fine-tuning or LoRA written by hand the way PEFT does it.
Trains on random token ids, times every optimizer step and prints ONE JSON
line on stdout. Run it through run_peer.sh (it sets the BLAS / malloc
environment described in docs/peers.md).
"""
import argparse
import contextlib
import json
import math
import os
import resource
import statistics
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


# ----------------------------------------------------------------------------- model
class Conv1D(nn.Module):
    """GPT-2's Conv1D: a linear layer whose weight is stored (in, out)."""

    def __init__(self, nx, nf):
        super().__init__()
        self.nx, self.nf = nx, nf
        self.weight = nn.Parameter(torch.empty(nx, nf))
        self.bias = nn.Parameter(torch.zeros(nf))

    def forward(self, x):
        y = torch.addmm(self.bias, x.reshape(-1, self.nx), self.weight)
        return y.view(*x.shape[:-1], self.nf)


class LoRA(nn.Module):
    """PEFT-style LoRA wrapper: base(x) + B(A(x)) * alpha / r (dropout 0)."""

    def __init__(self, base, r, alpha):
        super().__init__()
        self.base = base
        self.lora_A = nn.Linear(base.nx, r, bias=False)
        self.lora_B = nn.Linear(r, base.nf, bias=False)
        nn.init.kaiming_uniform_(self.lora_A.weight, a=math.sqrt(5))
        nn.init.zeros_(self.lora_B.weight)
        self.scaling = alpha / r

    def forward(self, x):
        return self.base(x) + self.lora_B(self.lora_A(x)) * self.scaling


class Attention(nn.Module):
    def __init__(self, d, heads, ctx):
        super().__init__()
        self.heads = heads
        self.c_attn = Conv1D(d, 3 * d)
        self.c_proj = Conv1D(d, d)
        self.register_buffer("mask", torch.tril(torch.ones(ctx, ctx, dtype=torch.bool)).view(1, 1, ctx, ctx))

    def forward(self, x):
        B, T, C = x.shape
        q, k, v = self.c_attn(x).split(C, dim=2)
        q, k, v = (t.view(B, T, self.heads, C // self.heads).transpose(1, 2) for t in (q, k, v))
        att = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(k.size(-1)))
        att = att.masked_fill(~self.mask[:, :, :T, :T], float("-inf")).softmax(dim=-1)
        y = (att @ v).transpose(1, 2).contiguous().view(B, T, C)
        return self.c_proj(y)


class MLP(nn.Module):
    def __init__(self, d):
        super().__init__()
        self.c_fc = Conv1D(d, 4 * d)
        self.c_proj = Conv1D(4 * d, d)

    def forward(self, x):
        return self.c_proj(F.gelu(self.c_fc(x), approximate="tanh"))


class Block(nn.Module):
    def __init__(self, d, heads, ctx):
        super().__init__()
        self.ln_1 = nn.LayerNorm(d, eps=1e-5)
        self.attn = Attention(d, heads, ctx)
        self.ln_2 = nn.LayerNorm(d, eps=1e-5)
        self.mlp = MLP(d)

    def forward(self, x):
        x = x + self.attn(self.ln_1(x))
        return x + self.mlp(self.ln_2(x))


class GPT2(nn.Module):
    def __init__(self, layers, heads, d, ctx, vocab):
        super().__init__()
        self.wte = nn.Embedding(vocab, d)
        self.wpe = nn.Embedding(ctx, d)
        self.h = nn.ModuleList(Block(d, heads, ctx) for _ in range(layers))
        self.ln_f = nn.LayerNorm(d, eps=1e-5)
        for m in self.modules():
            if isinstance(m, (Conv1D, nn.Embedding)):
                nn.init.normal_(m.weight, mean=0.0, std=0.02)

    def forward(self, idx, targets):
        T = idx.size(1)
        x = self.wte(idx) + self.wpe(torch.arange(T, device=idx.device))
        for block in self.h:
            x = block(x)
        logits = F.linear(self.ln_f(x), self.wte.weight)  # tied LM head
        return F.cross_entropy(logits.view(-1, logits.size(-1)), targets.reshape(-1))


def apply_lora(model, targets, r, alpha):
    """Replace every Conv1D whose module name ends with a target (PEFT's suffix match)."""
    for p in model.parameters():
        p.requires_grad_(False)
    wrapped = []
    for name, module in list(model.named_modules()):
        for child_name, child in list(module.named_children()):
            if isinstance(child, Conv1D) and child_name in targets:
                setattr(module, child_name, LoRA(child, r, alpha))
                wrapped.append(f"{name}.{child_name}" if name else child_name)
    if not wrapped:
        sys.exit(f"train_gpt2.py: no module matches --targets {','.join(targets)}")
    return wrapped


# ----------------------------------------------------------------------------- flops
def train_flops_per_token(a, seq, mode, targets):
    """Matmul FLOPs per trained token (elementwise ops ignored).

    Forward = 2 x weight-matmul params + attention scores and values (4*seq*d per
    layer, full square as computed) + tied LM head (2*d*vocab). Full fine-tune:
    backward = 2 x forward. LoRA: frozen weights need only the input gradient
    (1 x forward), attention products 2 x, LoRA matmuls 3 x their forward.
    """
    d, L, V = a.d, a.layers, a.vocab
    shapes = {"c_attn": [(d, 3 * d)], "c_proj": [(d, d), (4 * d, d)], "c_fc": [(d, 4 * d)]}
    weights = L * 2 * (d * 3 * d + d * d + d * 4 * d + 4 * d * d) + 2 * d * V
    attn = L * 4 * seq * d
    if mode == "full":
        return 3 * (weights + attn)
    lora = L * sum(2 * a.r * (i + o) for t in targets for (i, o) in shapes[t])
    return 2 * weights + 3 * attn + 3 * lora


# ----------------------------------------------------------------------------- main
def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--layers", type=int, default=12)
    p.add_argument("--heads", type=int, default=12)
    p.add_argument("--d", type=int, default=768)
    p.add_argument("--ctx", type=int, default=1024)
    p.add_argument("--vocab", type=int, default=50257)
    p.add_argument("--mode", choices=["lora", "full"], default="lora")
    p.add_argument("--targets", default="c_attn,c_proj,c_fc")
    p.add_argument("--r", type=int, default=8)
    p.add_argument("--alpha", type=float, default=16)
    p.add_argument("--tokens-per-step", type=int, default=2048)
    p.add_argument("--seq", type=int, default=256)
    p.add_argument("--steps", type=int, default=12)
    p.add_argument("--warmup", type=int, default=2)
    p.add_argument("--lr", type=float, default=None, help="default 2e-4 LoRA, 5e-5 full")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--autocast", choices=["none", "bf16"], default="none",
                   help="bf16: forward and loss under torch.autocast('cpu', bfloat16), PyTorch's CPU recipe")
    a = p.parse_args()

    targets = [t for t in a.targets.split(",") if t]
    bad = [t for t in targets if t not in ("c_attn", "c_proj", "c_fc")]
    if bad or a.d % a.heads or a.steps <= a.warmup:
        sys.exit("train_gpt2.py: bad arguments (targets among c_attn,c_proj,c_fc; d % heads == 0; steps > warmup)")
    seq = a.seq
    if seq > a.ctx:  # learned positions: a sequence cannot exceed the context
        print(f"train_gpt2.py: --seq {seq} > --ctx {a.ctx}, using seq {a.ctx}", file=sys.stderr)
        seq = a.ctx
    batch = max(1, a.tokens_per_step // seq)
    tokens = batch * seq

    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    model = GPT2(a.layers, a.heads, a.d, a.ctx, a.vocab)
    if a.mode == "lora":
        apply_lora(model, targets, a.r, a.alpha)
    model.train()
    params = [q for q in model.parameters() if q.requires_grad]
    lr = a.lr if a.lr is not None else (2e-4 if a.mode == "lora" else 5e-5)
    opt = torch.optim.AdamW(params, lr=lr, weight_decay=0.01)

    gen = torch.Generator().manual_seed(a.seed + 1)
    data = [torch.randint(a.vocab, (batch, seq + 1), generator=gen) for _ in range(a.steps)]

    cast = (lambda: torch.autocast("cpu", dtype=torch.bfloat16)) if a.autocast == "bf16" else contextlib.nullcontext
    load_before = os.getloadavg()[0]
    times, losses = [], []
    for step in range(a.steps):
        t0 = time.perf_counter()
        opt.zero_grad()  # torch 1.13 default: keep grad buffers, zero them
        with cast():
            loss = model(data[step][:, :-1], data[step][:, 1:])
        loss.backward()
        opt.step()
        times.append(time.perf_counter() - t0)
        losses.append(loss.item())

    med = statistics.median(times[a.warmup:])
    fpt = train_flops_per_token(a, seq, a.mode, targets)
    out = {
        "peer": "pytorch",
        "torch": torch.__version__,
        "recipe": "fp32" if a.autocast == "none" else "bf16-autocast",
        "mode": a.mode,
        "shape": {"layers": a.layers, "heads": a.heads, "d": a.d, "ctx": a.ctx, "vocab": a.vocab},
        "lora": {"r": a.r, "alpha": a.alpha, "targets": targets} if a.mode == "lora" else None,
        "seq": seq,
        "batch": batch,
        "tokens_per_step": tokens,
        "steps": a.steps,
        "warmup": a.warmup,
        "threads": torch.get_num_threads(),
        "step_s_median": round(med, 4),
        "step_s": [round(t, 4) for t in times],
        "tokens_per_s": round(tokens / med, 1),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "param_count": sum(q.numel() for q in model.parameters()),
        "trainable_count": sum(q.numel() for q in params),
        "train_flops_per_token": fpt,
        "gflop_s": round(fpt * tokens / med / 1e9, 1),
        "loadavg_1m": [round(load_before, 2), round(os.getloadavg()[0], 2)],  # > threads: contended
        "loss_first_last": [round(losses[0], 4), round(losses[-1], 4)],
    }
    print(json.dumps(out), flush=True)


if __name__ == "__main__":
    main()
