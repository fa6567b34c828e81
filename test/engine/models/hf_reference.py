"""
An independent reference for the model-family tests: the forward passes of transformers'
modeling_gpt2.py / modeling_llama.py / modeling_qwen2.py / modeling_gpt_bigcode.py (v4.46, eager
attention), transcribed in PyTorch without the transformers package (not installed here), reading a
model folder's config.json and model.safetensors (or its shards through the index) the way
from_pretrained does: F32/F16/BF16 tensors loaded as float32, names with or without the
base-model prefix (modeling_utils' base_model_prefix handling), unexpected buffers left unread.

Usage: /usr/bin/python3 hf_reference.py MODEL_DIR '[ids...]' [ADAPTER_DIR | --logits]
Prints a JSON list: log P(ids[i+1] | ids[..i]) for each i, as LocalTune's scoreIds returns.
With ADAPTER_DIR (a PEFT LoRA adapter) it prints {"base": [...], "adapter": [...]}: the second with
the adapter's update merged into the weights as PEFT's LoraLayer.get_delta_weight defines it, under
the module names PEFT keys it by. With --logits it prints every position's logits over all ids,
[T, V] flattened.
"""
import json
import math
import struct
import sys

import torch
import torch.nn.functional as F


DTYPES = {"F32": torch.float32, "F16": torch.float16, "BF16": torch.bfloat16}


def load_safetensors(path):
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        data = f.read()
    out = {}
    for name, info in header.items():
        if name == "__metadata__" or info["dtype"] not in DTYPES:
            continue
        a, b = info["data_offsets"]
        t = torch.frombuffer(bytearray(data[a:b]), dtype=DTYPES[info["dtype"]]) if b > a else torch.zeros(0)
        out[name] = t.float().reshape(info["shape"])
    return out


def load_state_dict(model_dir):
    """model.safetensors, or every shard model.safetensors.index.json's weight_map names."""
    try:
        return load_safetensors(f"{model_dir}/model.safetensors")
    except FileNotFoundError:
        with open(f"{model_dir}/model.safetensors.index.json") as f:
            shards = sorted(set(json.load(f)["weight_map"].values()))
        out = {}
        for s in shards:
            out.update(load_safetensors(f"{model_dir}/{s}"))
        return out


BASE_MODEL_PREFIX = {"gpt2": "transformer", "gpt_bigcode": "transformer", "llama": "model", "qwen2": "model"}


def with_base_prefix(cfg, W):
    """As from_pretrained loads a base model's checkpoint into the *ForCausalLM class: when no key
    starts with the base_model_prefix, every key is the base model's and gets the prefix (a head
    such as lm_head.weight, which only the task class has, keeps its name)."""
    prefix = BASE_MODEL_PREFIX[cfg["model_type"]] + "."
    if any(k.startswith(prefix) for k in W):
        return W
    return {(k if k.startswith("lm_head.") else prefix + k): v for k, v in W.items()}


# ---- modeling_rope_utils.py ------------------------------------------------------------------
def rope_inv_freq(cfg, dim):
    base = cfg.get("rope_theta", 10000.0)
    inv_freq = 1.0 / (base ** (torch.arange(0, dim, 2, dtype=torch.int64).float() / dim))
    rs = cfg.get("rope_scaling")
    if not rs:
        return inv_freq
    kind = rs.get("rope_type", rs.get("type"))
    if kind == "linear":
        return inv_freq / rs["factor"]
    assert kind == "llama3", kind
    factor = rs["factor"]
    low_freq_factor = rs["low_freq_factor"]
    high_freq_factor = rs["high_freq_factor"]
    old_context_len = rs["original_max_position_embeddings"]
    low_freq_wavelen = old_context_len / low_freq_factor
    high_freq_wavelen = old_context_len / high_freq_factor
    wavelen = 2 * math.pi / inv_freq
    inv_freq_llama = torch.where(wavelen > low_freq_wavelen, inv_freq / factor, inv_freq)
    smooth_factor = (old_context_len / wavelen - low_freq_factor) / (high_freq_factor - low_freq_factor)
    smoothed_inv_freq = (1 - smooth_factor) * inv_freq_llama / factor + smooth_factor * inv_freq_llama
    is_medium_freq = ~(wavelen < high_freq_wavelen) * ~(wavelen > low_freq_wavelen)
    return torch.where(is_medium_freq, smoothed_inv_freq, inv_freq_llama)


# ---- modeling_llama.py -----------------------------------------------------------------------
def rms_norm(x, w, eps):
    variance = x.pow(2).mean(-1, keepdim=True)
    return w * (x * torch.rsqrt(variance + eps))


def rotate_half(x):
    x1 = x[..., : x.shape[-1] // 2]
    x2 = x[..., x.shape[-1] // 2 :]
    return torch.cat((-x2, x1), dim=-1)


def repeat_kv(hidden_states, n_rep):
    batch, num_key_value_heads, slen, head_dim = hidden_states.shape
    if n_rep == 1:
        return hidden_states
    hidden_states = hidden_states[:, :, None, :, :].expand(batch, num_key_value_heads, n_rep, slen, head_dim)
    return hidden_states.reshape(batch, num_key_value_heads * n_rep, slen, head_dim)


def causal_mask(T):
    return torch.triu(torch.full((T, T), torch.finfo(torch.float32).min), diagonal=1)


def llama_logits(cfg, W, ids):
    qwen = cfg["model_type"] == "qwen2"
    C, H = cfg["hidden_size"], cfg["num_attention_heads"]
    KV = cfg.get("num_key_value_heads", H)
    D = cfg.get("head_dim") or C // H
    eps = cfg["rms_norm_eps"]
    attn_bias = qwen or cfg.get("attention_bias", False)
    o_bias = (not qwen) and cfg.get("attention_bias", False)
    mlp_bias = cfg.get("mlp_bias", False)

    def linear(x, name, bias):
        return F.linear(x, W[name + ".weight"], W[name + ".bias"] if bias else None)

    B, T = ids.shape
    position_ids = torch.arange(T)[None, :]
    inv_freq = rope_inv_freq(cfg, D)
    freqs = (inv_freq[None, :, None].float() @ position_ids[:, None, :].float()).transpose(1, 2)
    emb = torch.cat((freqs, freqs), dim=-1)
    cos, sin = emb.cos()[:, None], emb.sin()[:, None]  # unsqueeze_dim=1
    mask = causal_mask(T)
    h = W["model.embed_tokens.weight"][ids]
    for i in range(cfg["num_hidden_layers"]):
        p = f"model.layers.{i}"
        x = rms_norm(h, W[p + ".input_layernorm.weight"], eps)
        q = linear(x, p + ".self_attn.q_proj", attn_bias).view(B, T, -1, D).transpose(1, 2)
        k = linear(x, p + ".self_attn.k_proj", attn_bias).view(B, T, -1, D).transpose(1, 2)
        v = linear(x, p + ".self_attn.v_proj", attn_bias).view(B, T, -1, D).transpose(1, 2)
        q = (q * cos) + (rotate_half(q) * sin)
        k = (k * cos) + (rotate_half(k) * sin)
        k, v = repeat_kv(k, H // KV), repeat_kv(v, H // KV)
        w = torch.matmul(q, k.transpose(2, 3)) * D**-0.5 + mask
        w = F.softmax(w, dim=-1, dtype=torch.float32)
        y = torch.matmul(w, v).transpose(1, 2).reshape(B, T, -1)
        h = h + linear(y, p + ".self_attn.o_proj", o_bias)
        x = rms_norm(h, W[p + ".post_attention_layernorm.weight"], eps)
        gate = linear(x, p + ".mlp.gate_proj", mlp_bias)
        up = linear(x, p + ".mlp.up_proj", mlp_bias)
        h = h + linear(F.silu(gate) * up, p + ".mlp.down_proj", mlp_bias)
    h = rms_norm(h, W["model.norm.weight"], eps)
    head = W["model.embed_tokens.weight"] if cfg.get("tie_word_embeddings") else W["lm_head.weight"]
    return F.linear(h, head)


# ---- modeling_gpt2.py -------------------------------------------------------------------------
def gpt2_logits(cfg, W, ids):
    C, H = cfg["n_embd"], cfg["n_head"]
    D = C // H
    eps = cfg["layer_norm_epsilon"]
    assert cfg.get("activation_function", "gelu_new") == "gelu_new"

    def conv1d(x, name):  # Conv1D: weight [in, out], y = x @ W + b
        return torch.addmm(W[name + ".bias"], x.view(-1, x.size(-1)), W[name + ".weight"]).view(
            x.size()[:-1] + (W[name + ".weight"].size(-1),)
        )

    def ln(x, name):
        return F.layer_norm(x, (C,), W[name + ".weight"], W[name + ".bias"], eps)

    def gelu_new(x):
        return 0.5 * x * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * torch.pow(x, 3.0))))

    def split_heads(t):
        return t.view(t.size()[:-1] + (H, D)).permute(0, 2, 1, 3)  # [B, H, T, D]

    B, T = ids.shape
    h = W["transformer.wte.weight"][ids] + W["transformer.wpe.weight"][torch.arange(T)][None]
    causal = torch.tril(torch.ones(T, T, dtype=torch.bool))[None, None]
    for i in range(cfg["n_layer"]):
        p = f"transformer.h.{i}"
        x = ln(h, p + ".ln_1")
        query, key, value = conv1d(x, p + ".attn.c_attn").split(C, dim=2)
        query, key, value = split_heads(query), split_heads(key), split_heads(value)
        w = torch.matmul(query, key.transpose(-1, -2)) / torch.full([], value.size(-1) ** 0.5)
        w = torch.where(causal, w, torch.full([], torch.finfo(w.dtype).min))
        w = F.softmax(w, dim=-1)
        y = torch.matmul(w, value).permute(0, 2, 1, 3).contiguous().view(B, T, C)
        h = h + conv1d(y, p + ".attn.c_proj")
        x = ln(h, p + ".ln_2")
        h = h + conv1d(gelu_new(conv1d(x, p + ".mlp.c_fc")), p + ".mlp.c_proj")
    h = ln(h, "transformer.ln_f")
    return F.linear(h, W["transformer.wte.weight"])  # GPT2LMHeadModel ties lm_head to wte


# ---- modeling_gpt_bigcode.py (multi_query) -----------------------------------------------------
def bigcode_logits(cfg, W, ids):
    C, H = cfg["n_embd"], cfg["n_head"]
    D = C // H
    eps = cfg["layer_norm_epsilon"]
    assert cfg["multi_query"]

    def linear(x, name):
        return F.linear(x, W[name + ".weight"], W[name + ".bias"])

    def ln(x, name):
        return F.layer_norm(x, (C,), W[name + ".weight"], W[name + ".bias"], eps)

    B, T = ids.shape
    h = W["transformer.wte.weight"][ids] + W["transformer.wpe.weight"][torch.arange(T)][None]
    mask = torch.tril(torch.ones(T, T, dtype=torch.bool))[None, :, None, :]  # [1, T, 1, T]
    for i in range(cfg["n_layer"]):
        p = f"transformer.h.{i}"
        x = ln(h, p + ".ln_1")
        query, key_value = linear(x, p + ".attn.c_attn").split((C, 2 * D), dim=2)
        key, value = key_value.split((D, D), dim=-1)
        key = key.transpose(-1, -2)  # [B, D, T]
        q = query.reshape(B, T * H, D)
        w = torch.bmm(q, key).view(B, T, H, T) / math.sqrt(D)
        w = torch.where(mask, w, torch.full([], torch.finfo(torch.float32).min))
        w = F.softmax(w, dim=-1)
        y = torch.bmm(w.view(B, T * H, T), value).view(B, T, C)
        h = h + linear(y, p + ".attn.c_proj")
        x = ln(h, p + ".ln_2")
        h = h + linear(F.gelu(linear(x, p + ".mlp.c_fc"), approximate="tanh"), p + ".mlp.c_proj")
    h = ln(h, "transformer.ln_f")
    head = W["transformer.wte.weight"] if cfg.get("tie_word_embeddings", True) else W["lm_head.weight"]
    return F.linear(h, head)


# ---- peft/tuners/lora/layer.py ------------------------------------------------------------------
def merge_lora(W, adapter_dir):
    """W[module.weight] += transpose(B @ A, fan_in_fan_out) * scaling, for every lora_A/lora_B pair
    keyed `base_model.model.<module>.lora_{A,B}.weight` (PeftModel's key names). A key naming a
    module the model does not have is an error, as it is for PEFT's strict load."""
    with open(f"{adapter_dir}/adapter_config.json") as f:
        c = json.load(f)
    assert c["peft_type"] == "LORA", c["peft_type"]
    r, alpha = c["r"], c["lora_alpha"]
    scaling = alpha / math.sqrt(r) if c.get("use_rslora") else alpha / r
    A = load_safetensors(f"{adapter_dir}/adapter_model.safetensors")
    W = dict(W)
    for key in A:
        assert key.startswith("base_model.model."), key
        if not key.endswith(".lora_A.weight"):
            continue
        module = key[len("base_model.model.") : -len(".lora_A.weight")]
        name = module + ".weight"
        if name not in W:
            raise SystemExit(f"adapter key {key}: the model has no module {module}")
        delta = A[f"base_model.model.{module}.lora_B.weight"] @ A[key]
        if c.get("fan_in_fan_out"):
            delta = delta.T
        W[name] = W[name] + delta * scaling
    return W


def main():
    model_dir, ids = sys.argv[1], json.loads(sys.argv[2])
    torch.set_num_threads(1)
    with open(f"{model_dir}/config.json") as f:
        cfg = json.load(f)
    W = with_base_prefix(cfg, load_state_dict(model_dir))
    if len(sys.argv) > 3 and sys.argv[3] == "--logits":
        # Every position's logits [T, V], flattened (the export's int8 probe is checked against them).
        with torch.no_grad():
            print(json.dumps(forward(cfg, W, torch.tensor([ids]))[0].flatten().tolist()))
    elif len(sys.argv) > 3:
        print(json.dumps({"base": logprobs(cfg, W, ids), "adapter": logprobs(cfg, merge_lora(W, sys.argv[3]), ids)}))
    else:
        print(json.dumps(logprobs(cfg, W, ids)))


def forward(cfg, W, x):
    if cfg["model_type"] == "gpt2":
        return gpt2_logits(cfg, W, x)
    if cfg["model_type"] in ("llama", "qwen2"):
        return llama_logits(cfg, W, x)
    if cfg["model_type"] == "gpt_bigcode":
        return bigcode_logits(cfg, W, x)
    raise SystemExit(f"no reference for {cfg['model_type']}")


def logprobs(cfg, W, ids):
    x = torch.tensor([ids[:-1]])
    with torch.no_grad():
        logp = F.log_softmax(forward(cfg, W, x).double(), dim=-1)[0]
    return [logp[i, t].item() for i, t in enumerate(ids[1:])]


if __name__ == "__main__":
    main()
