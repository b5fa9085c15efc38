"""The GPU path. Skipped only where no CUDA device exists; `scripts/gpu-session.sh` runs it on a
lent GPU (`pytest -m cuda`). Everything here also has a CPU counterpart elsewhere in the suite."""

import os
import subprocess
import sys

import numpy as np
import pytest
import torch

from playground import api
from playground.api import TrainSpec, train
from playground.contract import Kind
from playground.registry import family_names, get_family

pytestmark = [pytest.mark.cuda,
              pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device on this machine")]

DATASETS = {"cyclegan": "fashion:7,9", "srgan": "photos"}
SMALL = {"stylegan": {"base_channels": "8", "max_channels": "16"}, "srgan": {"n_blocks": "2"}}


def _run(family, precision="fp32", steps=2, batch=8, log_every=1):
    spec = TrainSpec(family=family, dataset=DATASETS.get(family, "fashion"), steps=steps, batch_size=batch,
                     device="cuda", overrides=SMALL.get(family, {}), precision=precision, log_every=log_every,
                     sample_every=100)
    return list(train(spec))


@pytest.mark.parametrize("family", family_names())
@pytest.mark.parametrize("precision", ["fp32", "bf16", "fp16"])
def test_one_train_step_per_family(family, precision):
    events = _run(family, precision)
    assert events[-1].message == "finished", events[-1]
    for ev in (e for e in events if e.kind == "step"):
        assert all(np.isfinite(v) for v in ev.scalars.values()), ev.scalars


# tedigan writes each step's captions on the host from measured attributes (text is host-side by
# nature: the sentence encoder tokenises strings), so its steps synchronise by design
@pytest.mark.parametrize("family", [f for f in family_names() if get_family(f).kind is not Kind.TEXT])
def test_train_step_makes_no_host_sync(family, monkeypatch):
    """After the first steps (the epoch's permutations, and CycleGAN's per-domain index lists, are
    on the device), a step never waits on the GPU."""
    import dataclasses

    fam = get_family(family)
    seen = []

    def checked(ctx):
        if ctx.step >= 2:
            torch.cuda.set_sync_debug_mode("error")
        try:
            return fam.train_step(ctx)
        finally:
            torch.cuda.set_sync_debug_mode(0)
            seen.append(ctx.step)

    module = sys.modules[fam.train_step.__module__]
    monkeypatch.setattr(module, "FAMILY", dataclasses.replace(fam, train_step=checked))
    events = _run(family, steps=4, log_every=100)
    assert events[-1].message == "finished" and seen == [0, 1, 2, 3]


def test_sampling_on_gpu_matches_cpu():
    """A model the GPU serves in fp32 (stylegan-fashion fails the bf16 check) draws the CPU's
    images: exact fp32, no TF32, even after a GPU training run in this process turned TF32 on.
    (cgan-fashion passes the bf16 check, so its GPU images are bf16's: test_bf16_inference_where_it_holds.)"""
    from playground.capabilities.sampling import generate, latents
    from playground.models import load_model

    _run("dcgan")                               # sets the trainer's GPU flags (TF32) process-wide
    cpu, gpu = load_model("stylegan-fashion"), load_model("stylegan-fashion", "cuda")
    z = latents(cpu, 16, seed=4)
    a, b = generate(cpu, z, None), generate(gpu, z, None)
    assert not gpu.inference["bf16"]["bf16_ok"]
    assert np.abs(a.astype(int) - b.astype(int)).max() <= 2
    assert torch.backends.cuda.matmul.allow_tf32                 # the flags are restored after
    assert next(cpu.G.parameters()).device.type == "cpu"


def test_eval_on_gpu_leaves_the_cached_model_on_the_cpu():
    from playground.models import load_model

    res = api.evaluate("cgan-fashion", ["fid", "cond-acc"], n=1000)
    assert res["metrics"]["cond-acc"]["value"] > 0.5
    assert next(load_model("cgan-fashion").G.parameters()).device.type == "cpu"


@pytest.mark.skipif(torch.cuda.device_count() < 2, reason="needs two CUDA devices")
def test_ddp_nccl_two_devices(tmp_path):
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
           "-m", "playground", "train", "dcgan", "--dataset", "fashion", "--steps", "4", "--batch-size", "32",
           "--device", "cuda", "--no-tensorboard", "--out", str(tmp_path / "run")]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=300, env={**os.environ})
    assert r.returncode == 0, r.stderr[-3000:]
    import json

    meta = json.loads((tmp_path / "run" / "config.json").read_text())
    assert meta["world_size"] == 2 and meta["batchnorm"] == "synchronised"


def test_bf16_inference_where_it_holds():
    from playground.models import load_model

    gpu = load_model("cgan-fashion", "cuda")
    api_images = api.sample("cgan-fashion", 8, 3, labels=list(range(8)))   # CPU, fp32
    from playground.capabilities.sampling import generate, latents

    out = generate(gpu, latents(gpu, 8, 3), torch.arange(8))
    assert gpu.inference["bf16"]["bf16_ok"]
    assert np.abs(out.astype(int) - api_images.astype(int)).mean() < 1.0
    style = load_model("stylegan-fashion", "cuda")
    generate(style, latents(style, 4, 0), None)
    assert not style.inference["bf16"]["bf16_ok"]                          # stays fp32
