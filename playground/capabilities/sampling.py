"""Sampling a noise-driven generator: z (plus labels or codes) -> uint8 images.

Deterministic for a seed: z comes from a private CPU `torch.Generator`, so the same seed gives the
same images on any device and never touches the global RNG.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
import torch

from ..errors import PlaygroundError
from ..contract import NOISE_KINDS, Kind
from ..images.convert import to_uint8
from ..models import LoadedModel
from ..seed import truncated_normal
from .limits import check_n_seed
from .precision import autocast

KINDS = NOISE_KINDS


def _check(model: LoadedModel) -> None:
    if model.kind is Kind.TRANSLATOR:
        raise PlaygroundError(f"{model.name} translates images between two domains: use translate, not sample")
    if model.kind is Kind.UPSCALER:
        raise PlaygroundError(f"{model.name} is a super-resolution model: use upscale, not sample")
    model.require(KINDS, "sampling")


def labels_for(model: LoadedModel, n: int, labels: Sequence[int] | None) -> torch.Tensor | None:
    K = model.num_classes
    if not K:
        if labels is not None:
            raise PlaygroundError(f"{model.name} is unconditional: it takes no class labels")
        return None
    if labels is None:
        return torch.arange(n) % K                     # cycle through the classes
    c = torch.as_tensor(list(labels), dtype=torch.long)
    if c.ndim != 1 or len(c) != n:
        raise PlaygroundError(f"give one label per sample ({n}), got {len(c)}")
    bad = c[(c < 0) | (c >= K)]
    if len(bad):
        raise PlaygroundError(f"invalid class {int(bad[0])} for {model.name}: choose 0..{K - 1}")
    return c


def latents(model: LoadedModel, n: int, seed: int, truncation: float | None = None) -> torch.Tensor:
    """z for a seed: a private CPU generator, so the same seed gives the same z on any device.
    `truncation` (models with the "truncation" feature): every |z_i| at most that threshold."""
    g = torch.Generator().manual_seed(int(seed))
    if truncation is not None:
        if "truncation" not in model.features:
            raise PlaygroundError(f"{model.name} ({model.family}) has no truncation control")
        try:
            return truncated_normal(n, model.G.z_dim, float(truncation), g)
        except (TypeError, ValueError) as e:
            raise PlaygroundError(str(e)) from None
    if model.kind is Kind.CODES:  # noise plus uniform codes
        return model.G.sample_latent(n, g)
    return torch.randn(n, model.G.z_dim, generator=g)


def with_controls(model: LoadedModel, z: torch.Tensor, controls: dict) -> torch.Tensor:
    """Kind-specific sampling controls (the codes kind's code_cont); unknown ones are errors."""
    controls = {k: v for k, v in controls.items() if v is not None}
    if not controls:
        return z
    if model.kind is not Kind.CODES:
        raise PlaygroundError(f"{model.name} takes no sampling controls ({', '.join(sorted(controls))})")
    try:
        return model.G.apply_controls(z, **controls)
    except (TypeError, RuntimeError, ValueError) as e:
        raise PlaygroundError(f"invalid controls for {model.name}: {e}") from None


def growth_stage(model: LoadedModel, resolution) -> dict:
    """G's keyword for sampling a finished resolution (models with the "growth" feature, ProGAN)."""
    if resolution is None:
        return {}
    if "growth" not in model.features:
        raise PlaygroundError(f"{model.name} ({model.family}) was not grown: it has no resolution control")
    reached = model.G.reached_resolutions()
    try:
        r = int(resolution)
    except (TypeError, ValueError):
        r = None
    if r not in reached or r != resolution:
        raise PlaygroundError(f"{model.name} can sample at {', '.join(map(str, reached))}, not {resolution!r}")
    return {"resolution": r}


@torch.inference_mode()
def generate(model: LoadedModel, z: torch.Tensor, c: torch.Tensor | None, **g_kwargs) -> np.ndarray:
    dev = next(model.G.parameters()).device
    with autocast(model):
        x = model.G(z.to(dev), **g_kwargs) if c is None else model.G(z.to(dev), c.to(dev), **g_kwargs)
    return to_uint8(x.float()).numpy()


def sample_with_labels(model: LoadedModel, n: int, seed: int, labels: Sequence[int] | None = None,
                       **controls) -> tuple[np.ndarray, np.ndarray | None]:
    check_n_seed(n, seed)
    _check(model)
    c = labels_for(model, n, labels)
    z = latents(model, n, seed, controls.pop("truncation", None))
    stage = growth_stage(model, controls.pop("resolution", None))
    images = generate(model, with_controls(model, z, controls), c, **stage)
    return images, (None if c is None else c.numpy())


def interpolate(model: LoadedModel, seed_a: int, seed_b: int, steps: int = 10,
                label: int | None = None) -> np.ndarray:
    """Spherical interpolation between the latents of two seeds: uint8 [steps, H, W, C]."""
    check_n_seed(1, seed_a)
    check_n_seed(1, seed_b)
    if not 2 <= steps <= 64:
        raise PlaygroundError(f"steps must be between 2 and 64, got {steps}")
    _check(model)
    za, zb = latents(model, 1, seed_a)[0], latents(model, 1, seed_b)[0]
    omega = torch.arccos((za / za.norm()).dot(zb / zb.norm()).clamp(-1, 1))
    t = torch.linspace(0, 1, steps)[:, None]
    if omega.abs() < 1e-6:
        z = (1 - t) * za + t * zb
    else:
        z = (torch.sin((1 - t) * omega) * za + torch.sin(t * omega) * zb) / torch.sin(omega)
    c = labels_for(model, steps, None if label is None else [label] * steps)
    return generate(model, z, c)
