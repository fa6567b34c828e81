"""fp32 GEMM throughput of PyTorch (OpenBLAS) at the given shapes: one JSON line on stdout.

Usage: gemm_peer.py M,K,N [M,K,N ...]  (run with bench/peers/peer_env.sh sourced)
"""
import json
import sys
import time

import torch

torch.set_num_threads(2)
out = []
for spec in sys.argv[1:]:
    m, k, n = (int(x) for x in spec.split(","))
    a, b, c = torch.randn(m, k), torch.randn(k, n), torch.empty(m, n)
    for _ in range(2):
        torch.mm(a, b, out=c)
    times = []
    for _ in range(9):
        t = time.perf_counter()
        torch.mm(a, b, out=c)
        times.append(time.perf_counter() - t)
    times.sort()
    out.append({"shape": [m, k, n], "gflop_s": round(2 * m * k * n / times[4] / 1e9, 1)})
print(json.dumps({"torch": torch.__version__, "results": out}))
