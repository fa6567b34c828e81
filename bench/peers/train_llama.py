#!/usr/bin/python3
"""PyTorch Llama training peer for LocalTune's training benchmark.

A self-contained Llama (RoPE as transformers' rotate_half, RMSNorm, SwiGLU, grouped-query attention,
tied embeddings; Hugging Face module names), random init (N(0, 0.02)), AdamW, full fine-tuning or
LoRA written by hand the way PEFT does it on nn.Linear. --autocast bf16 runs forward and loss under
torch.autocast("cpu", dtype=torch.bfloat16), the recipe PyTorch advises on CPUs with AVX-512 BF16 /
AMX. Trains on random token ids, times every optimizer step and prints ONE JSON line on stdout (the
fields of train_gpt2.py). Run it through run_peer.sh --family llama.
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

TARGETS = ("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj")


class LoRA(nn.Module):
    """PEFT-style LoRA around an nn.Linear: base(x) + B(A(x)) * alpha / r (dropout 0)."""

    def __init__(self, base, r, alpha):
        super().__init__()
        self.base = base
        self.lora_A = nn.Linear(base.in_features, r, bias=False)
        self.lora_B = nn.Linear(r, base.out_features, bias=False)
        nn.init.kaiming_uniform_(self.lora_A.weight, a=math.sqrt(5))
        nn.init.zeros_(self.lora_B.weight)
        self.scaling = alpha / r

    def forward(self, x):
        return self.base(x) + self.lora_B(self.lora_A(x)) * self.scaling


class RMSNorm(nn.Module):
    def __init__(self, d, eps):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(d))
        self.eps = eps

    def forward(self, x):
        dtype = x.dtype
        x = x.float()
        x = x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps)
        return self.weight * x.to(dtype)


def rotate_half(x):
    x1, x2 = x[..., : x.shape[-1] // 2], x[..., x.shape[-1] // 2 :]
    return torch.cat((-x2, x1), dim=-1)


class Attention(nn.Module):
    def __init__(self, d, heads, kv_heads, head_dim):
        super().__init__()
        self.heads, self.kv_heads, self.head_dim = heads, kv_heads, head_dim
        self.q_proj = nn.Linear(d, heads * head_dim, bias=False)
        self.k_proj = nn.Linear(d, kv_heads * head_dim, bias=False)
        self.v_proj = nn.Linear(d, kv_heads * head_dim, bias=False)
        self.o_proj = nn.Linear(heads * head_dim, d, bias=False)

    def forward(self, x, cos, sin):
        B, T, _ = x.shape
        q = self.q_proj(x).view(B, T, self.heads, self.head_dim).transpose(1, 2)
        k = self.k_proj(x).view(B, T, self.kv_heads, self.head_dim).transpose(1, 2)
        v = self.v_proj(x).view(B, T, self.kv_heads, self.head_dim).transpose(1, 2)
        q, k = q * cos + rotate_half(q) * sin, k * cos + rotate_half(k) * sin
        rep = self.heads // self.kv_heads
        k, v = k.repeat_interleave(rep, dim=1), v.repeat_interleave(rep, dim=1)
        att = (q @ k.transpose(-2, -1)) / math.sqrt(self.head_dim)
        mask = torch.ones(T, T, dtype=torch.bool).tril()
        att = att.masked_fill(~mask, float("-inf")).softmax(dim=-1)
        return self.o_proj((att @ v).transpose(1, 2).reshape(B, T, -1))


class MLP(nn.Module):
    def __init__(self, d, ff):
        super().__init__()
        self.gate_proj = nn.Linear(d, ff, bias=False)
        self.up_proj = nn.Linear(d, ff, bias=False)
        self.down_proj = nn.Linear(ff, d, bias=False)

    def forward(self, x):
        return self.down_proj(F.silu(self.gate_proj(x)) * self.up_proj(x))


class Layer(nn.Module):
    def __init__(self, a):
        super().__init__()
        self.input_layernorm = RMSNorm(a.d, 1e-5)
        self.self_attn = Attention(a.d, a.heads, a.kv_heads, a.d // a.heads)
        self.post_attention_layernorm = RMSNorm(a.d, 1e-5)
        self.mlp = MLP(a.d, a.ff)

    def forward(self, x, cos, sin):
        x = x + self.self_attn(self.input_layernorm(x), cos, sin)
        return x + self.mlp(self.post_attention_layernorm(x))


class Llama(nn.Module):
    def __init__(self, a):
        super().__init__()
        self.embed_tokens = nn.Embedding(a.vocab, a.d)
        self.layers = nn.ModuleList(Layer(a) for _ in range(a.layers))
        self.norm = RMSNorm(a.d, 1e-5)
        D = a.d // a.heads
        self.register_buffer("inv_freq", 1.0 / (a.rope_theta ** (torch.arange(0, D, 2).float() / D)), persistent=False)
        for m in self.modules():
            if isinstance(m, (nn.Linear, nn.Embedding)):
                nn.init.normal_(m.weight, mean=0.0, std=0.02)

    def forward(self, idx, targets):
        T = idx.size(1)
        freqs = torch.outer(torch.arange(T).float(), self.inv_freq)
        emb = torch.cat((freqs, freqs), dim=-1)
        cos, sin = emb.cos()[None, None], emb.sin()[None, None]
        x = self.embed_tokens(idx)
        for layer in self.layers:
            x = layer(x, cos, sin)
        logits = F.linear(self.norm(x), self.embed_tokens.weight)  # tied LM head
        return F.cross_entropy(logits.float().view(-1, logits.size(-1)), targets.reshape(-1))


def apply_lora(model, targets, r, alpha):
    for p in model.parameters():
        p.requires_grad_(False)
    wrapped = 0
    for module in list(model.modules()):
        for child_name, child in list(module.named_children()):
            if isinstance(child, nn.Linear) and child_name in targets:
                setattr(module, child_name, LoRA(child, r, alpha))
                wrapped += 1
    if not wrapped:
        sys.exit(f"train_llama.py: no module matches --targets {','.join(targets)}")


def train_flops_per_token(a, seq, mode, targets):
    """As train_gpt2.py: W = 2 x weight-matmul params incl. the tied head, A = 4*seq*d per layer."""
    d, L, V, kv = a.d, a.layers, a.vocab, a.kv_heads * (a.d // a.heads)
    shapes = {"q_proj": (d, d), "k_proj": (d, kv), "v_proj": (d, kv), "o_proj": (d, d),
              "gate_proj": (d, a.ff), "up_proj": (d, a.ff), "down_proj": (a.ff, d)}
    weights = L * 2 * sum(i * o for i, o in shapes.values()) + 2 * d * V
    attn = L * 4 * seq * d
    if mode == "full":
        return 3 * (weights + attn)
    lora = L * sum(2 * a.r * (i + o) for t in targets for (i, o) in [shapes[t]])
    return 2 * weights + 3 * attn + 3 * lora


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--layers", type=int, default=30)
    p.add_argument("--heads", type=int, default=9)
    p.add_argument("--kv-heads", type=int, default=3)
    p.add_argument("--d", type=int, default=576)
    p.add_argument("--ff", type=int, default=1536)
    p.add_argument("--ctx", type=int, default=2048)
    p.add_argument("--vocab", type=int, default=49152)
    p.add_argument("--rope-theta", type=float, default=100000.0)
    p.add_argument("--mode", choices=["lora", "full"], default="lora")
    p.add_argument("--targets", default="q_proj,v_proj")
    p.add_argument("--r", type=int, default=8)
    p.add_argument("--alpha", type=float, default=16)
    p.add_argument("--tokens-per-step", type=int, default=2048)
    p.add_argument("--seq", type=int, default=256)
    p.add_argument("--steps", type=int, default=12)
    p.add_argument("--warmup", type=int, default=2)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--autocast", choices=["none", "bf16"], default="none")
    p.add_argument("--seed", type=int, default=0)
    a = p.parse_args()

    targets = [t for t in a.targets.split(",") if t]
    if any(t not in TARGETS for t in targets) or a.d % a.heads or a.heads % a.kv_heads or a.steps <= a.warmup:
        sys.exit("train_llama.py: bad arguments (targets among the Llama projections; d % heads, heads % kv-heads; steps > warmup)")
    seq = min(a.seq, a.ctx)
    batch = max(1, a.tokens_per_step // seq)
    tokens = batch * seq

    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    model = Llama(a)
    if a.mode == "lora":
        apply_lora(model, targets, a.r, a.alpha)
    model.train()
    params = [q for q in model.parameters() if q.requires_grad]
    opt = torch.optim.AdamW(params, lr=2e-4 if a.mode == "lora" else 5e-5, weight_decay=0.01)
    gen = torch.Generator().manual_seed(a.seed + 1)
    data = [torch.randint(a.vocab, (batch, seq + 1), generator=gen) for _ in range(a.steps)]
    cast = (lambda: torch.autocast("cpu", dtype=torch.bfloat16)) if a.autocast == "bf16" else contextlib.nullcontext

    load_before = os.getloadavg()[0]
    times, losses = [], []
    for step in range(a.steps):
        t0 = time.perf_counter()
        opt.zero_grad()
        with cast():
            loss = model(data[step][:, :-1], data[step][:, 1:])
        loss.backward()
        opt.step()
        times.append(time.perf_counter() - t0)
        losses.append(loss.item())

    med = statistics.median(times[a.warmup:])
    fpt = train_flops_per_token(a, seq, a.mode, targets)
    print(json.dumps({
        "peer": "pytorch",
        "torch": torch.__version__,
        "recipe": "fp32" if a.autocast == "none" else "bf16-autocast",
        "mode": a.mode,
        "shape": {"layers": a.layers, "heads": a.heads, "kv_heads": a.kv_heads, "d": a.d, "ff": a.ff, "vocab": a.vocab},
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
        "loadavg_1m": [round(load_before, 2), round(os.getloadavg()[0], 2)],
        "loss_first_last": [round(losses[0], 4), round(losses[-1], 4)],
    }), flush=True)


if __name__ == "__main__":
    main()
