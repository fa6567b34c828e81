#!/usr/bin/env bash
# Pretrains the starter model, one stage per working session (scripts/starter/stage.ts): resumes
# this machine's stage exactly if its run folder is here, else starts the next stage from the
# shipped models/starter/ (stage 1: fresh weights, `localtune train --init random`). Package the
# result with scripts/starter/package.ts. Never benchmark while it runs.
# Usage: scripts/starter/pretrain.sh [--dir DIR] [--steps N]   (N: the stage's steps, default 100;
#   DIR: $LOCALTUNE_STARTER_DIR or ~/.cache/localtune/starter; LOCALTUNE_NICE: its priority, default 19)
set -euo pipefail
cd "$(dirname "$0")/../.."
S=$(node -e "import('./scripts/starter/paths.mjs').then(m => console.log(m.starterDir(process.argv.slice(1))))" -- "$@")
[ -f dist/cli.js ] || node scripts/build.mjs
# A fresh machine rebuilds the corpus and the dataset as the card's figures were made. The folder
# split draws per package from the corpus's path and the fraction: at $HOME/.cache/localtune/starter
# and 0.06 it holds out js-yaml and rxjs alone (0.1 would add three packages trained on since step 0).
[ -f "$S/corpus.json" ] || node scripts/starter/corpus.mjs --dir "$S"
if [ ! -f "$S/dataset/manifest.json" ]; then
  node dist/cli.js dataset build --from "$S/corpus" --model models/starter --out "$S/dataset" \
    --split folder --val-fraction 0.06 > /dev/null
fi
held=$(node -e "const m = require(process.argv[1]); console.log([...new Set(m.heldOut.files.map((f) => f.id.split('/')[0]))].sort().join(','))" "$S/dataset/manifest.json")
[ "$held" = js-yaml,rxjs ] || { echo "pretrain.sh: $S/dataset holds out $held, not js-yaml,rxjs as the card; rebuild it at $HOME/.cache/localtune/starter" >&2; exit 1; }
common=(--mode full --data "$S/dataset" --weight-decay 0.1 --clip 1
  --batch-tokens 16384 --seq-len 512 --micro-batch-tokens 4096
  --eval-every 25 --eval-tokens 32768 --checkpoint-every 10 --patience 0 --no-keep-best)
run() { exec nice -n "${LOCALTUNE_NICE:-19}" node dist/cli.js train "$@"; }
# A stage already packaged into models/starter/ is done: the next one starts from those weights.
packaged=$(node -e "const [s, h] = process.argv.slice(1).map((f) => require(f)); console.log(s.fromStep + s.steps <= h.step)" "$S/stage.json" "$PWD/models/starter/pretraining.json" 2>/dev/null || echo false)
[ "$packaged" = true ] && rm -rf "$S/run"
if compgen -G "$S/run/checkpoints/step-*" > /dev/null; then
  stage=$(cat "$S/stage.json")
else
  rm -rf "$S/run"
  stage=$(node --import tsx scripts/starter/stage.ts "$@" --write)
fi
[ "$stage" != null ] || { echo "pretrain.sh: the plan is complete (models/starter/pretraining.json)"; exit 0; }
field() { node -e "console.log(JSON.parse(process.argv[1])[process.argv[2]])" "$stage" "$1"; }
args=("${common[@]}" --steps "$(field steps)" --lr "$(field lr)" --warmup "$(field warmup)" --seed "$(field seed)")
if [ "$(field init)" = random ]; then
  args+=(--model "$S/template" --init random)
else
  args+=(--model models/starter)
fi
if compgen -G "$S/run/checkpoints/step-*" > /dev/null; then run "${args[@]}" --resume "$S/run"; fi
run "${args[@]}" --out "$S/run"
