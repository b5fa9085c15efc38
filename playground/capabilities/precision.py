"""bf16 inference on a GPU, for the models whose images it leaves as they are, measured.

The first time a model on a CUDA device is used, `autocast(model)` renders fixed probe inputs in
fp32 and under bf16 autocast and compares the uint8 images: bf16 is kept only if the mean
difference is at most MAX_MEAN levels and the 99th percentile at most MAX_P99
(`python -m playground bench --only bf16` runs the same check on a CPU's bf16; which shipped
models pass is in docs/performance.md). On the CPU nothing changes: inference is fp32.
"""

from __future__ import annotations

import contextlib

import numpy as np
import torch

from ..device import exact_fp32
from ..contract import Kind
from ..images.convert import to_uint8
from ..models import LoadedModel
from .example_inputs import example_inputs

MAX_MEAN, MAX_P99 = 0.5, 3.0
KINDS = tuple(Kind)


def _probe(model: LoadedModel, device: torch.device):
    """A fixed-seed forward pass of the model on `device`, as a function."""
    G, kind = model.G, model.kind
    n = {Kind.TRANSLATOR: 8, Kind.UPSCALER: 2}.get(kind, 32)
    inputs = {k: v.to(device) for k, v in example_inputs(model, n, 32 if kind is Kind.UPSCALER else None).items()}
    if kind is Kind.TRANSLATOR:
        return lambda: G(inputs["x"], "a2b")
    return lambda: G(*inputs.values())


@torch.no_grad()
def measure(model: LoadedModel, device_type: str | None = None) -> dict:
    """uint8 differences between fp32 and bf16-autocast renders of the probe inputs."""
    device = next(model.G.parameters()).device
    run = _probe(model, device)
    a = to_uint8(run().float()).numpy().astype(np.int16)
    with torch.autocast(device_type or device.type, dtype=torch.bfloat16):
        b = to_uint8(run().float()).numpy().astype(np.int16)
    d = np.abs(a - b)
    mean, p99 = float(d.mean()), float(np.percentile(d, 99))
    return {"mean": round(mean, 3), "p99": p99, "max": int(d.max()),
            "bf16_ok": mean <= MAX_MEAN and p99 <= MAX_P99}


def autocast(model: LoadedModel):
    """bf16 autocast for this model's inference when it is on a GPU and the check passed; else, on
    a GPU, exact fp32 (no TF32), the CPU's images."""
    if next(model.G.parameters()).device.type != "cuda":
        return contextlib.nullcontext()
    if "bf16" not in model.inference:
        with exact_fp32():
            model.inference["bf16"] = measure(model)
    if not model.inference["bf16"]["bf16_ok"]:
        return exact_fp32()
    return torch.autocast("cuda", dtype=torch.bfloat16)
