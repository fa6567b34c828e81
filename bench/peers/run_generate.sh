#!/usr/bin/env bash
# Runs the PyTorch inference peer (generate_gpt2.py) in run_peer.sh's environment (peers.md).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
export OPENBLAS_CORETYPE=
export LD_LIBRARY_PATH=/usr/lib/x86_64-linux-gnu/openblas-openmp
export LD_PRELOAD=/usr/lib/x86_64-linux-gnu/libtcmalloc_minimal.so.4
export OMP_NUM_THREADS="${OMP_NUM_THREADS:-2}"
exec /usr/bin/python3 "$here/generate_gpt2.py" "$@"
