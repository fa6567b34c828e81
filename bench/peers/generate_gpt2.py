"""The PyTorch inference peer: a self-contained GPT-2 (learned positions, pre-LN, gelu_new, tied
head) with a KV cache, weights read from a transformers model.safetensors (no safetensors package
needed), greedy decoding on given prompt ids. Times like our decoder: time to first token from the
call (prefill + the first token), decode tokens/s after the first. Prints one JSON line.
Run through run_peer.sh's environment (OpenBLAS OpenMP, tcmalloc, 2 threads):
  generate_gpt2.py --model DIR --prompt IDS.json --new 32 --reps 3"""
import argparse, json, math, os, struct, time
import numpy as np
import torch

p = argparse.ArgumentParser()
p.add_argument('--model', required=True)
p.add_argument('--prompt', required=True)
p.add_argument('--new', type=int, default=32)
p.add_argument('--reps', type=int, default=3)
p.add_argument('--threads', type=int, default=2)
a = p.parse_args()
torch.set_num_threads(a.threads)
cfg = json.load(open(os.path.join(a.model, 'config.json')))
raw = open(os.path.join(a.model, 'model.safetensors'), 'rb').read()
n = struct.unpack('<Q', raw[:8])[0]
hdr = json.loads(raw[8:8 + n])
W = {}
for k, v in hdr.items():
    if k == '__metadata__':
        continue
    s, e = v['data_offsets']
    W[k.removeprefix('transformer.')] = torch.from_numpy(np.frombuffer(raw, dtype=np.float32, count=(e - s) // 4, offset=8 + n + s).reshape(v['shape']).copy())
L, H, C, eps = cfg['n_layer'], cfg['n_head'], cfg['n_embd'], cfg.get('layer_norm_epsilon', 1e-5)
D = C // H


def ln(x, name):
    return torch.nn.functional.layer_norm(x, (C,), W[name + '.weight'], W[name + '.bias'], eps)


def gelu(x):
    return 0.5 * x * (1 + torch.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x ** 3)))


@torch.no_grad()
def forward(ids, past):
    T = ids.shape[0]
    P = past[0][0].shape[1] if past else 0
    x = W['wte.weight'][ids] + W['wpe.weight'][P:P + T]
    present = []
    for i in range(L):
        h = f'h.{i}'
        qkv = torch.addmm(W[h + '.attn.c_attn.bias'], ln(x, h + '.ln_1'), W[h + '.attn.c_attn.weight'])
        q, k, v = qkv.split(C, dim=1)
        q, k, v = (t.view(T, H, D).transpose(0, 1) for t in (q, k, v))  # [H, T, D]
        if past:
            k = torch.cat([past[i][0], k], 1)
            v = torch.cat([past[i][1], v], 1)
        present.append((k, v))
        s = q @ k.transpose(1, 2) / math.sqrt(D)
        if T > 1:
            s = s + torch.triu(torch.full((T, P + T), float('-inf')), diagonal=P + 1)
        y = (torch.softmax(s, -1) @ v).transpose(0, 1).reshape(T, C)
        x = x + torch.addmm(W[h + '.attn.c_proj.bias'], y, W[h + '.attn.c_proj.weight'])
        m = gelu(torch.addmm(W[h + '.mlp.c_fc.bias'], ln(x, h + '.ln_2'), W[h + '.mlp.c_fc.weight']))
        x = x + torch.addmm(W[h + '.mlp.c_proj.bias'], m, W[h + '.mlp.c_proj.weight'])
    last = ln(x[-1:], 'ln_f')
    return (last @ W['wte.weight'].t())[0], present


prompt = torch.tensor(json.load(open(a.prompt)), dtype=torch.long)
runs = []
for r in range(a.reps + 1):
    t0 = time.perf_counter()
    logits, past = forward(prompt, None)
    tok = [int(logits.argmax())]
    first = time.perf_counter()
    while len(tok) < a.new:
        logits, past = forward(torch.tensor([tok[-1]]), past)
        tok.append(int(logits.argmax()))
    end = time.perf_counter()
    if r > 0:
        runs.append({'firstTokenMs': (first - t0) * 1000, 'decodeTokensPerSecond': (len(tok) - 1) / (end - first), 'tokens': tok})
print(json.dumps({'runs': runs, 'loadavg': os.getloadavg()[0], 'torch': torch.__version__}))
