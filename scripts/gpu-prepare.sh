#!/usr/bin/env bash
# Run HERE (no GPU needed), once per session before scripts/gpu-session.sh: gathers what the bare GPU
# machine lacks into .gpu/ (git-ignored, carried by the device tool): the torch-fidelity wheel for
# Python 3.12 and the Fashion-MNIST idx files. Then, with the device tool:
#   run(command="bash scripts/gpu-session.sh", carry=[".gpu"], timeout_s=580)
set -euo pipefail
cd "$(dirname "$0")/.."
grep -qx '/.gpu/' .git/info/exclude 2>/dev/null || echo '/.gpu/' >> .git/info/exclude
mkdir -p .gpu/whl .gpu/fashion
python3 -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
    --platform manylinux_2_28_x86_64 --platform manylinux2014_x86_64 -d .gpu/whl torch-fidelity==0.4.0
cp /usr/share/datasets/fashion-mnist/*.gz .gpu/fashion/
du -sh .gpu
