#!/usr/bin/env bash
# Runs the PyTorch training peer with the environment from docs/peers.md:
# OpenBLAS (OpenMP build) without the preset OPENBLAS_CORETYPE=Haswell, tcmalloc
# preloaded, Debian's /usr/bin/python3. All arguments go to train_gpt2.py; it prints
# one JSON line on stdout (diagnostics on stderr). Install first with setup.sh.
#   bench/peers/run_peer.sh --layers 12 --heads 12 --d 768 --ctx 1024 --mode lora
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
. "$here/peer_env.sh"
exec /usr/bin/python3 "$here/train_gpt2.py" "$@"
