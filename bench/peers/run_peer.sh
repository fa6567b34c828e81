#!/usr/bin/env bash
# Runs a PyTorch training peer with the environment from docs/peers.md:
# OpenBLAS (OpenMP build) without the preset OPENBLAS_CORETYPE=Haswell, tcmalloc
# preloaded, Debian's /usr/bin/python3. `--family llama` picks train_llama.py (default
# train_gpt2.py); the other arguments go to the script, which prints one JSON line on
# stdout (diagnostics on stderr). Install first with setup.sh.
#   bench/peers/run_peer.sh --layers 12 --heads 12 --d 768 --ctx 1024 --mode lora [--autocast bf16]
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
. "$here/peer_env.sh"
script=train_gpt2.py
if [ "${1:-}" = "--family" ]; then
  script="train_$2.py"
  shift 2
fi
exec /usr/bin/python3 "$here/$script" "$@"
