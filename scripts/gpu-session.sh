#!/usr/bin/env bash
# Run ON the lent GPU machine, in one call (see scripts/gpu-prepare.sh): the cuda-marked tests,
# then the GPU benchmarks. Logs and JSON come back under $OUT. Sized for a 10-minute call.
set -uo pipefail
cd "$(dirname "$0")/.."
OUT=${OUT:-/tmp/gpu-out}; mkdir -p "$OUT"
python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --target /tmp/site .gpu/whl/*.whl || exit 1
export PYTHONPATH=/tmp/site:$PWD PLAYGROUND_FASHION_DIR=$PWD/.gpu/fashion
export GRADIO_ANALYTICS_ENABLED=False HF_HUB_OFFLINE=1 PYTHONUNBUFFERED=1
nvidia-smi -L | tee "$OUT/device.txt"
python3 -c "import torch; print('torch', torch.__version__, torch.cuda.get_device_name(0))" | tee -a "$OUT/device.txt"
# not tedigan: its sentence encoder (88 MB of weights) cannot travel to the lent machine (64 MiB)
timeout 300 python3 -m pytest -q -m cuda tests/test_cuda.py -k "not tedigan" -p no:cacheprovider -x 2>&1 | tail -60 | tee "$OUT/cuda-tests.log"
timeout 240 python3 -m playground bench --device cuda --only train,families,bf16,sample --json "$OUT/bench-cuda.json" 2>&1 \
    | tee "$OUT/bench-cuda.log"
