#!/usr/bin/env bash
# Run ON a lent GPU machine (after scripts/gpu-prepare.sh has carried the wheels and data): retrain
# every shipped model (or the ones named) with its recorded command on the GPU, re-measure its card
# and bring the new folders back as one archive under $OUT. checkpoints/ is not touched: compare the
# cards in the archive with the shipped ones, and copy a folder over checkpoints/NAME when better.
# JOBS models train at once (default 3: one small net alone leaves most of a GPU idle, while six
# kept an H100 98% busy at 10-25 steps/s each; README, "On a GPU"); each model's log is in the
# archive's logs/. tedigan-fashion cannot retrain there: its
# sentence encoder (88 MB) does not fit what travels to the lent machine, so it is reported failed.
set -uo pipefail
cd "$(dirname "$0")/.."
OUT=${OUT:-/tmp/gpu-out}; mkdir -p "$OUT"
python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --target /tmp/site .gpu/whl/*.whl || exit 1
export PYTHONPATH=/tmp/site:$PWD PLAYGROUND_FASHION_DIR=$PWD/.gpu/fashion PYTHONUNBUFFERED=1
timeout "${BUDGET_S:-540}" python3 -m playground retrain "$@" --out-root /tmp/retrained --device cuda --jobs "${JOBS:-3}" 2>&1 \
    | grep -v "^step " | tee "$OUT/retrain.log"
# the weights, configs and cards (no trainer state: the archive must stay under 16 MiB)
tar -czf "$OUT/retrained.tar.gz" -C /tmp/retrained --exclude 'trainer_state.*' --exclude tb .
