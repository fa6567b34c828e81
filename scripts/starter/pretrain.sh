#!/usr/bin/env bash
# Pretrains the starter model from scratch (`localtune train --init random`: the template's
# Llama config and GPT-2+FIM tokenizer, fresh weights) on the starter dataset, or resumes the run
# where it stopped: it takes hours, over several sessions. Never benchmark while it runs.
# Usage: scripts/starter/pretrain.sh [--dir DIR]   (default: $LOCALTUNE_STARTER_DIR or ~/.cache/localtune/starter)
set -euo pipefail
cd "$(dirname "$0")/../.."
S=$(node -e "import('./scripts/starter/paths.mjs').then(m => console.log(m.starterDir(process.argv.slice(1))))" -- "$@")
[ -f dist/cli.js ] || node scripts/build.mjs
args=(--model "$S/template" --init random --mode full --data "$S/dataset"
  --steps 400 --lr 1e-3 --warmup 20 --weight-decay 0.1 --clip 1
  --batch-tokens 8192 --seq-len 512 --micro-batch-tokens 4096
  --eval-every 25 --eval-tokens 32768 --checkpoint-every 20 --seed 0)
if compgen -G "$S/run/checkpoints/step-*" > /dev/null; then
  exec nice -n "${LOCALTUNE_NICE:-19}" node dist/cli.js train "${args[@]}" --resume "$S/run"
fi
exec nice -n "${LOCALTUNE_NICE:-19}" node dist/cli.js train "${args[@]}" --out "$S/run"
