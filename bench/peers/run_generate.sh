#!/usr/bin/env bash
# Runs the PyTorch inference peer (generate_gpt2.py) in run_peer.sh's environment (docs/peers.md).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
. "$here/peer_env.sh"
exec /usr/bin/python3 "$here/generate_gpt2.py" "$@"
