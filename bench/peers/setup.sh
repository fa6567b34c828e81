#!/usr/bin/env bash
# Installs the PyTorch training peer (Debian's PyTorch 1.13.1 under /usr/bin/python3,
# OpenBLAS built with OpenMP, tcmalloc). Idempotent: does nothing when torch already imports.
# See docs/peers.md.
set -euo pipefail

PY=/usr/bin/python3
PKGS=(python3-torch python3-numpy libopenblas0-openmp libtcmalloc-minimal4)

have_all() {
  "$PY" -c 'import torch, numpy' >/dev/null 2>&1 &&
    [ -e /usr/lib/x86_64-linux-gnu/openblas-openmp/libblas.so.3 ] &&
    [ -e /usr/lib/x86_64-linux-gnu/libtcmalloc_minimal.so.4 ]
}

if have_all; then
  echo "setup.sh: PyTorch peer already installed ($("$PY" -c 'import torch; print(torch.__version__)'))"
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update
$SUDO apt-get install -y --no-install-recommends "${PKGS[@]}"

"$PY" -c 'import torch; print("setup.sh: installed torch", torch.__version__)'
