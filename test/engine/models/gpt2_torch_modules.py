"""
A second GPT-2 forward pass, to check hf_reference.py's transcription of modeling_gpt2.py against
code that shares none of it: PyTorch's own nn.TransformerEncoderLayer (pre-LayerNorm, fused
in-projection, nn.MultiheadAttention with a causal mask) carrying GPT-2's Conv1D weights
transposed into nn.Linear's layout. Reads the folder through hf_reference's loader only.

Usage: /usr/bin/python3 gpt2_torch_modules.py MODEL_DIR '[ids...]'  (prints what hf_reference prints)
"""
import json
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F

sys.dont_write_bytecode = True  # no __pycache__ beside the tests
from hf_reference import load_state_dict, with_base_prefix  # noqa: E402


def logits(cfg, W, ids):
    C, H = cfg["n_embd"], cfg["n_head"]
    inner = cfg.get("n_inner") or 4 * C
    T = ids.shape[1]
    h = F.embedding(ids, W["transformer.wte.weight"]) + F.embedding(torch.arange(T), W["transformer.wpe.weight"])
    mask = nn.Transformer.generate_square_subsequent_mask(T)
    for i in range(cfg["n_layer"]):
        p = f"transformer.h.{i}"
        block = nn.TransformerEncoderLayer(
            C, H, inner, dropout=0.0, activation=lambda x: F.gelu(x, approximate="tanh"),
            layer_norm_eps=cfg["layer_norm_epsilon"], batch_first=True, norm_first=True,
        )
        with torch.no_grad():
            block.self_attn.in_proj_weight.copy_(W[p + ".attn.c_attn.weight"].t())
            block.self_attn.in_proj_bias.copy_(W[p + ".attn.c_attn.bias"])
            block.self_attn.out_proj.weight.copy_(W[p + ".attn.c_proj.weight"].t())
            block.self_attn.out_proj.bias.copy_(W[p + ".attn.c_proj.bias"])
            block.linear1.weight.copy_(W[p + ".mlp.c_fc.weight"].t())
            block.linear1.bias.copy_(W[p + ".mlp.c_fc.bias"])
            block.linear2.weight.copy_(W[p + ".mlp.c_proj.weight"].t())
            block.linear2.bias.copy_(W[p + ".mlp.c_proj.bias"])
            for n, ln in (("ln_1", block.norm1), ("ln_2", block.norm2)):
                ln.weight.copy_(W[f"{p}.{n}.weight"])
                ln.bias.copy_(W[f"{p}.{n}.bias"])
        block.eval()
        h = block(h, src_mask=mask)
    h = F.layer_norm(h, (C,), W["transformer.ln_f.weight"], W["transformer.ln_f.bias"], cfg["layer_norm_epsilon"])
    return h @ W["transformer.wte.weight"].t()


def main():
    model_dir, ids = sys.argv[1], json.loads(sys.argv[2])
    torch.set_num_threads(1)
    with open(f"{model_dir}/config.json") as f:
        cfg = json.load(f)
    assert cfg["model_type"] == "gpt2", cfg["model_type"]
    W = with_base_prefix(cfg, load_state_dict(model_dir))
    with torch.no_grad():
        logp = F.log_softmax(logits(cfg, W, torch.tensor([ids[:-1]])).double(), dim=-1)[0]
    print(json.dumps([logp[i, t].item() for i, t in enumerate(ids[1:])]))


if __name__ == "__main__":
    main()
