"""Export a generator so that it runs without this project: ONNX (checked with onnxruntime against
PyTorch on fixed seeds) or TorchScript.

Every export takes and returns plain tensors, images in [-1, 1], [N, C, H, W]:
  sampler, style      z [N, z_dim]                       -> image
  conditional, codes  z [N, z_dim], c [N] (int64 class)  -> image
  translator          image [N, C, H, W] (one direction) -> image
  upscaler            image [N, C, h, w]                 -> image [N, C, h*s, w*s]
StyleGAN is exported with constant noise and no truncation (what the app shows by default).
"""

from __future__ import annotations

import contextlib
import copy
import io
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn

from ..errors import PlaygroundError
from ..contract import Kind
from ..models import LoadedModel
from .example_inputs import example_inputs

KINDS = tuple(Kind)   # every kind's generator exports

FORMATS = ("onnx", "torchscript")
SUFFIX = {"onnx": ".onnx", "torchscript": ".pt"}


class _Noise(nn.Module):
    def __init__(self, G):
        super().__init__()
        self.G = G

    def forward(self, z):
        return self.G(z)


class _Labelled(_Noise):
    def forward(self, z, c):
        return self.G(z, c)


class _Style(_Noise):
    def forward(self, z):
        G = self.G
        return G.synthesize(G.broadcast(G.map(z)), "const")


class _Translate(_Noise):
    def __init__(self, G, direction: str):
        super().__init__(G)
        self.net = G.G_AB if direction == "a2b" else G.G_BA

    def forward(self, x):
        return self.net(x)


@dataclass
class Exported:
    path: Path
    format: str
    inputs: dict[str, list]        # name -> example shape
    max_abs_diff: float | None     # onnxruntime vs PyTorch on the check inputs (None for TorchScript)

    def to_dict(self) -> dict:
        return {"path": str(self.path), "format": self.format, "inputs": self.inputs,
                "max_abs_diff": self.max_abs_diff}


def _wrapped(model: LoadedModel, direction: str) -> tuple[nn.Module, dict[str, torch.Tensor]]:
    """The module to export and fixed-seed example inputs (batch 3) for it."""
    G, kind = copy.deepcopy(model.G).float().cpu().eval(), model.kind   # the cached model stays as it is
    inputs = example_inputs(model, 3, 24 if kind is Kind.UPSCALER else None)   # an upscaler takes any size
    if kind is Kind.TRANSLATOR:
        if direction not in ("a2b", "b2a"):
            raise PlaygroundError(f"direction must be 'a2b' or 'b2a', not {direction!r}")
        return _Translate(G, direction), inputs
    if "c" in inputs or "e" in inputs:
        return _Labelled(G), inputs
    return (_Style(G) if kind is Kind.STYLE else _Noise(G)), inputs


def _check_onnx(path: Path, module: nn.Module, inputs: dict[str, torch.Tensor]) -> float:
    import onnxruntime as ort

    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    got = session.run(None, {k: v.numpy() for k, v in inputs.items()})[0]
    with torch.no_grad():
        want = module(*inputs.values()).numpy()
    return float(np.abs(got - want).max())


def export(model: LoadedModel, fmt: str, out: str | Path, direction: str = "a2b",
           tolerance: float = 1e-3) -> Exported:
    if fmt not in FORMATS:
        raise PlaygroundError(f"format must be one of {', '.join(FORMATS)}, not {fmt!r}")
    out = Path(out)
    if out.suffix != SUFFIX[fmt]:
        raise PlaygroundError(f"a {fmt} export is written to a {SUFFIX[fmt]} file, not {out.name!r}")
    out.parent.mkdir(parents=True, exist_ok=True)
    module, inputs = _wrapped(model, direction)
    module.eval()
    shapes = {k: list(v.shape) for k, v in inputs.items()}
    if fmt == "torchscript":
        with torch.no_grad():
            traced = torch.jit.trace(module, tuple(inputs.values()))
        traced.save(str(out))
        return Exported(out, fmt, shapes, None)
    batch = torch.export.Dim("batch", min=1, max=4096)
    dynamic = [{0: batch} for _ in inputs]          # any batch size
    if model.kind is Kind.UPSCALER:                 # and any photo size
        dynamic = [{0: batch, 2: torch.export.Dim("height", min=4, max=4096),
                    3: torch.export.Dim("width", min=4, max=4096)}]
    try:
        with contextlib.redirect_stdout(io.StringIO()):  # the exporter narrates each pass
            torch.onnx.export(module, tuple(inputs.values()), str(out), input_names=list(inputs),
                              output_names=["image"], dynamo=True, dynamic_shapes=dynamic)
    except Exception as e:  # the exporter's own errors are pages long: name the cause in one line
        out.unlink(missing_ok=True)
        first = str(e).strip().splitlines()[0] if str(e).strip() else ""
        raise PlaygroundError(f"ONNX export of {model.name} failed: {type(e).__name__}: {first[:300]}") from e
    diff = _check_onnx(out, module, inputs)
    if not diff <= tolerance:
        out.unlink(missing_ok=True)
        raise PlaygroundError(f"the ONNX export differs from PyTorch by {diff:.3g} (> {tolerance}); not written")
    Path(str(out) + ".json").write_text(json.dumps({"model": model.name, "family": model.family,
                                                    "kind": model.kind.value, "inputs": shapes,
                                                    "onnxruntime_max_abs_diff": diff}, indent=1))
    return Exported(out, fmt, shapes, diff)


def usage(kind: Kind) -> list[str]:
    """Card lines: how to run an exported generator without this project."""
    feeds = {Kind.SAMPLER: '{"z": z}', Kind.STYLE: '{"z": z}', Kind.CONDITIONAL: '{"z": z, "c": labels}',
             Kind.CODES: '{"z": z, "c": codes}', Kind.TRANSLATOR: '{"x": x}', Kind.UPSCALER: '{"x": x}',
             Kind.TEXT: '{"z": z, "e": e}   # e: all-MiniLM-L6-v2 sentence embeddings, L2-normalised'}
    return ["```",
            "python -m playground export MODEL --format onnx --out g.onnx   # or --format torchscript --out g.pt",
            "import onnxruntime as ort",
            "img = ort.InferenceSession('g.onnx').run(None, " + feeds[kind] + ")[0]   # [N, C, H, W] in [-1, 1]",
            "img = torch.jit.load('g.pt')(*inputs)                                    # the TorchScript file",
            "```"]
