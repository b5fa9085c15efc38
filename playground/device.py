"""Device choice: CUDA when available, else MPS, else CPU."""

import torch

from .errors import PlaygroundError


def pick_device(requested: str | None = None) -> torch.device:
    if requested in (None, "", "auto"):
        if torch.cuda.is_available():
            return torch.device("cuda")
        mps = getattr(torch.backends, "mps", None)
        if mps is not None and mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    if requested == "cuda" and not torch.cuda.is_available():
        raise PlaygroundError("--device cuda was asked for but no CUDA GPU is available here")
    if requested not in ("cpu", "cuda", "mps"):
        raise PlaygroundError(f"unknown device {requested!r}: use cpu, cuda, mps or auto")
    return torch.device(requested)
