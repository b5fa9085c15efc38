#!/usr/bin/env bash
# Run ON a lent GPU machine (after scripts/gpu-prepare.sh), in one call:
#   run(command="bash scripts/gpu-train.sh scripts/gpu-jobs.txt", carry=[".gpu"], timeout_s=580)
# Trains every run listed in the jobs file (one per line: NAME[:CAP_MB], then `train` arguments
# without --out/--device) at the same time on the one GPU, each for BUDGET_S seconds at most (then
# SIGTERM: the step in hand is saved), keeping every checkpoint (--keep-checkpoints); the
# cuda-marked tests run alongside. Back under $OUT: NAME.tar per run, at most CAP_MB (8 files of at
# most 16 MiB come back): the run's resumable state when it fits (`train --resume` goes on here),
# then its last kept checkpoints (weights + config); and logs.tar.gz (each run's log, the tests'
# log, GPU utilisation). A tar over 15 MiB comes back as NAME.tar.part0, .part1, ... (join them here
# with `cat NAME.tar.part* > NAME.tar`); the files returned, logs and bench included, must stay at 8.
# Pick a checkpoint with `eval` here, then `adopt` it.
# CUDA_TESTS=0 skips the tests; BENCH_S=N runs `bench --device cuda` for at most N s after training.
# Called again on the same (still warm) machine, each run resumes from where SIGTERM saved it.
set -uo pipefail
cd "$(dirname "$0")/.."
JOBS=${1:?usage: gpu-train.sh JOBS_FILE}
OUT=${OUT:-/tmp/gpu-out}; W=${WORK:-/tmp/gpu-runs}; DEVICE=${DEVICE:-cuda}; CAP_MB=${CAP_MB:-9}
mkdir -p "$OUT" "$W"; names=(); caps=(); pids=()
if [ -d .gpu/whl ] && ! python3 -c "import torch_fidelity" 2>/dev/null; then
    python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --target /tmp/site .gpu/whl/*.whl || exit 1
fi
export PYTHONPATH=/tmp/site:$PWD PLAYGROUND_FASHION_DIR=${PLAYGROUND_FASHION_DIR:-$PWD/.gpu/fashion} PYTHONUNBUFFERED=1
export GRADIO_ANALYTICS_ENABLED=False HF_HUB_OFFLINE=1
{ nvidia-smi -L; python3 -c "import torch; print('torch', torch.__version__, torch.cuda.is_available())"; } > "$W/device.txt" 2>&1
if [ "$DEVICE" = cuda ]; then
    nvidia-smi --query-gpu=timestamp,utilization.gpu,memory.used --format=csv -l 15 > "$W/gpu-util.log" 2>&1 &
    util=$!
    # not tedigan: its sentence encoder (88 MB of weights) cannot travel to the lent machine (64 MiB)
    if [ "${CUDA_TESTS:-1}" = 1 ]; then
        timeout 450 python3 -m pytest -v --tb=short -m cuda tests/test_cuda.py -k "not tedigan" -p no:cacheprovider > "$W/cuda-tests.log" 2>&1 &
        pids+=($!)
    fi
fi
while read -r job args; do
    [[ -z "$job" || "$job" == \#* ]] && continue
    name=${job%%:*}; names+=("$name"); caps+=("$( [[ $job == *:* ]] && echo "${job#*:}" || echo "$CAP_MB")")
    resume=(); [ -f "$W/$name/trainer_state.json" ] && resume=(--resume "$W/$name")
    # shellcheck disable=SC2086  # the arguments are words
    timeout -k 30 "${BUDGET_S:-420}" python3 -m playground train $args --device "$DEVICE" --keep-checkpoints \
        --no-tensorboard --out "$W/$name" "${resume[@]}" >> "$W/$name.log" 2>&1 &
    pids+=($!)
done < "$JOBS"
wait "${pids[@]}"
if [ "${BENCH_S:-0}" -gt 0 ]; then      # not app/text: gradio and the sentence encoder are not there
    timeout "$BENCH_S" python3 -m playground bench --device "$DEVICE" --only train,families,sample,bf16,fid,sr,mix \
        --json "$OUT/bench.json" > "$W/bench.log" 2>&1
fi
[ -n "${util:-}" ] && kill "$util"
for i in "${!names[@]}"; do
    name=${names[$i]}
    [ -d "$W/$name/steps" ] || continue
    # the run's last state (D and the optimisers too: `train --resume` can go on here) when it fits
    state=(config.json model.safetensors trainer_state.json trainer_state.safetensors)
    state_k=$(cd "$W/$name" && du -kc "${state[@]}" 2>/dev/null | tail -1 | cut -f1)
    left=$(( caps[i] * 1024 - state_k )); [ "$left" -gt 0 ] || { state=(); left=$(( caps[i] * 1024 )); }
    each=$(du -k "$(ls -d "$W/$name"/steps/* | tail -1)" | cut -f1)
    keep=$(( left / (each + 1) )); [ "$keep" -ge 1 ] || keep=1
    (cd "$W/$name" && { ls -d steps/* | tail -n "$keep"; ls "${state[@]}" 2>/dev/null; } | tar -cf "$OUT/$name.tar" -T -)
    # a file comes back only up to 16 MiB: a larger tar (CAP_MB over 15) comes back in 15 MiB parts
    if [ "$(stat -c %s "$OUT/$name.tar")" -gt $(( 15 * 1024 * 1024 )) ]; then
        split -b 15M -d -a 1 "$OUT/$name.tar" "$OUT/$name.tar.part" && rm "$OUT/$name.tar"
    fi
done
tar -czf "$OUT/logs.tar.gz" -C "$W" $(cd "$W" && ls *.log device.txt 2>/dev/null)
ls -la "$OUT"
